// The C++ floors: what one call costs in ONNX Runtime itself, below which no binding can go.
//
// Loads the same libonnxruntime.so file that ortbind uses (dlopen, as ortbind does), makes a session
// with the same options, wraps the inputs once, and then, on each command read from stdin, times N
// calls and prints the N per-call times in nanoseconds on one line:
// - "run N": OrtApi::Run, ONNX Runtime allocating the outputs, released after each call (as a
//   binding that returns fresh outputs must);
// - "bind N": OrtApi::RunWithBinding on one OrtIoBinding kept across calls: outputs bound once to
//   the CPU (ONNX Runtime allocates them on each run; they are fetched with GetBoundOutputValues and
//   released, as fresh outputs must be), inputs rebound on each call. It skips the name lookups and
//   the feed/fetch plan that Run builds per call.
// - "bound N": RunWithBinding on a second OrtIoBinding with everything bound once: inputs bound
//   once, outputs bound to the CPU once and never fetched, so ONNX Runtime writes each run into the
//   buffers of the last (the least work RunWithBinding can do; what a binding with inputs bound
//   once and preallocated outputs asks of it).
// The benchmark suite drives it interleaved with the Python contenders.
//
// Usage: floor LIBRARY MODEL INPUTS INTRA_OP_THREADS INTER_OP_THREADS
// INPUTS holds one line per input: NAME ELEMENT_TYPE RANK DIM... DATA_FILE (raw little-endian data).
#define ORT_API_MANUAL_INIT
#include <onnxruntime_cxx_api.h>

#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Input {
  std::string name;
  ONNXTensorElementDataType element;
  std::vector<int64_t> shape;
  std::vector<char> data;
};

size_t element_size(ONNXTensorElementDataType element) {
  switch (element) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64:
      return 8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32:
      return 4;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16:
      return 2;
    default:
      return 1;
  }
}

std::vector<Input> read_inputs(const char* path) {
  std::ifstream spec(path);
  std::vector<Input> inputs;
  std::string line;
  while (std::getline(spec, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    Input input;
    int element = 0;
    size_t rank = 0;
    fields >> input.name >> element >> rank;
    input.element = static_cast<ONNXTensorElementDataType>(element);
    input.shape.resize(rank);
    for (auto& d : input.shape) fields >> d;
    std::string data_path;
    fields >> data_path;
    std::ifstream data(data_path, std::ios::binary);
    input.data.assign(std::istreambuf_iterator<char>(data), std::istreambuf_iterator<char>());
    inputs.push_back(std::move(input));
  }
  return inputs;
}

void check(const OrtApi* api, OrtStatus* status) {
  if (status == nullptr) return;
  std::cerr << "floor: " << api->GetErrorMessage(status) << "\n";
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: floor LIBRARY MODEL INPUTS INTRA_OP_THREADS INTER_OP_THREADS\n";
    return 2;
  }
  void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    std::cerr << "floor: " << dlerror() << "\n";
    return 1;
  }
  using GetApiBase = const OrtApiBase* (*)();
  auto get_api_base = reinterpret_cast<GetApiBase>(dlsym(library, "OrtGetApiBase"));
  const OrtApiBase* base = get_api_base();
  const OrtApi* api = base->GetApi(ORT_API_VERSION);
  if (api == nullptr) {
    std::cerr << "floor: runtime lacks API " << ORT_API_VERSION << "\n";
    return 1;
  }
  Ort::InitApi(api);

  try {
    Ort::Env env(ORT_LOGGING_LEVEL_WARNING, "floor");
    Ort::SessionOptions options;
    options.SetIntraOpNumThreads(std::stoi(argv[4]));
    options.SetInterOpNumThreads(std::stoi(argv[5]));
    options.SetGraphOptimizationLevel(ORT_ENABLE_ALL);
    options.SetExecutionMode(ORT_SEQUENTIAL);
    Ort::Session session(env, argv[2], options);

    std::vector<Input> inputs = read_inputs(argv[3]);
    Ort::MemoryInfo memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    std::vector<Ort::Value> values;
    std::vector<const char*> input_names;
    for (auto& input : inputs) {
      size_t count = 1;
      for (auto d : input.shape) count *= static_cast<size_t>(d);
      if (input.data.size() != count * element_size(input.element)) {
        std::cerr << "floor: " << input.name << " has " << input.data.size() << " bytes\n";
        return 1;
      }
      values.push_back(Ort::Value::CreateTensor(memory, input.data.data(), input.data.size(), input.shape.data(),
                                                input.shape.size(), input.element));
      input_names.push_back(input.name.c_str());
    }
    Ort::AllocatorWithDefaultOptions allocator;
    std::vector<std::string> output_strings;
    for (size_t i = 0; i < session.GetOutputCount(); ++i)
      output_strings.emplace_back(session.GetOutputNameAllocated(i, allocator).get());
    std::vector<const char*> output_names;
    for (auto& name : output_strings) output_names.push_back(name.c_str());
    std::vector<OrtValue*> raw_inputs;
    for (auto& v : values) raw_inputs.push_back(v);
    std::vector<OrtValue*> outputs(output_names.size(), nullptr);

    auto call = [&] {
      OrtStatus* status = api->Run(session, nullptr, input_names.data(), raw_inputs.data(), raw_inputs.size(),
                                   output_names.data(), output_names.size(), outputs.data());
      if (status != nullptr) {
        std::cerr << "floor: " << api->GetErrorMessage(status) << "\n";
        std::exit(1);
      }
      for (auto*& out : outputs) {
        api->ReleaseValue(out);
        out = nullptr;
      }
    };
    OrtIoBinding* binding = nullptr;
    check(api, api->CreateIoBinding(session, &binding));
    for (const char* name : output_names) check(api, api->BindOutputToDevice(binding, name, memory));
    auto bound_call = [&] {
      for (size_t i = 0; i < raw_inputs.size(); ++i) check(api, api->BindInput(binding, input_names[i], raw_inputs[i]));
      check(api, api->RunWithBinding(session, nullptr, binding));
      OrtValue** values_out = nullptr;
      size_t count = 0;
      check(api, api->GetBoundOutputValues(binding, allocator, &values_out, &count));
      for (size_t i = 0; i < count; ++i) api->ReleaseValue(values_out[i]);
      check(api, api->AllocatorFree(allocator, values_out));
    };
    OrtIoBinding* settled = nullptr;
    check(api, api->CreateIoBinding(session, &settled));
    for (size_t i = 0; i < raw_inputs.size(); ++i) check(api, api->BindInput(settled, input_names[i], raw_inputs[i]));
    for (const char* name : output_names) check(api, api->BindOutputToDevice(settled, name, memory));
    auto settled_call = [&] { check(api, api->RunWithBinding(session, nullptr, settled)); };
    call();
    bound_call();
    settled_call();
    std::cout << "ready " << base->GetVersionString() << std::endl;

    std::string command;
    size_t count = 0;
    std::vector<long long> samples;
    while (std::cin >> command) {
      if (command == "quit") break;
      std::cin >> count;
      samples.resize(count);
      const int kind = command == "bind" ? 1 : command == "bound" ? 2 : 0;
      for (size_t i = 0; i < count; ++i) {
        const auto start = std::chrono::steady_clock::now();
        if (kind == 1)
          bound_call();
        else if (kind == 2)
          settled_call();
        else
          call();
        const auto stop = std::chrono::steady_clock::now();
        samples[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count();
      }
      std::string line;
      for (size_t i = 0; i < count; ++i) line += (i ? " " : "") + std::to_string(samples[i]);
      std::cout << line << std::endl;
    }
    api->ReleaseIoBinding(binding);
    api->ReleaseIoBinding(settled);
  } catch (const Ort::Exception& error) {
    std::cerr << "floor: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
