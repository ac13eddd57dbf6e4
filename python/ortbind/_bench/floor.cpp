// The C++ floors: what one call costs in ONNX Runtime itself, below which no binding can go.
//
// A shared library that the benchmark loads into its own process (ctypes), so that the floors run on
// the same thread, at the same moments and in the same process as the Python contenders: this
// machine's speed shifts by process and over time, and a floor in another process drew its own luck.
// It dlopens the same libonnxruntime.so file that ortbind uses (already loaded there: the same
// runtime), makes a session with the same options, wraps the inputs once, and then floor_block times
// N calls of one kind, writing the per-call times in nanoseconds:
// - kind 0, the Run floor: OrtApi::Run, ONNX Runtime allocating the outputs, released after each
//   call (as a binding that returns fresh outputs must);
// - kind 1, the bound floor: OrtApi::RunWithBinding on one OrtIoBinding kept across calls, inputs
//   rebound on each call, the outputs fetched with GetBoundOutputValues and released, then bound to
//   the CPU again so that the next run allocates them afresh (left bound, ONNX Runtime would write
//   the next run into the buffers just handed out). It skips the name lookups and the feed/fetch
//   plan that Run builds per call.
// - kind 2, the bound-once floor: RunWithBinding on a second OrtIoBinding with everything bound
//   once: inputs bound once, outputs bound to the CPU once and never fetched, so ONNX Runtime
//   writes each run into the buffers of the last (the least work RunWithBinding can do; what a
//   binding with inputs bound once and preallocated outputs asks of it).
// floor_threads runs the Run floor on several threads at once on the one session (the limit for
// Python threads sharing a session: ONNX Runtime's own locks, its CPU arena's among them, are in it)
// and gives the wall time of the whole block.
//
// INPUTS (floor_open) holds one line per input: NAME ELEMENT_TYPE RANK DIM... DATA_FILE (raw
// little-endian data).
#define ORT_API_MANUAL_INIT
#include <onnxruntime_cxx_api.h>

#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
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
  std::string message = api->GetErrorMessage(status);
  api->ReleaseStatus(status);
  throw std::runtime_error(message);
}

struct Floor {
  const OrtApi* api = nullptr;
  std::string version;
  std::unique_ptr<Ort::Env> env;
  std::unique_ptr<Ort::Session> session;
  std::vector<Input> inputs;
  std::vector<Ort::Value> values;
  std::vector<const char*> input_names;
  std::vector<OrtValue*> raw_inputs;
  std::vector<std::string> output_strings;
  std::vector<const char*> output_names;
  std::vector<OrtValue*> outputs;
  OrtMemoryInfo* memory = nullptr;
  OrtAllocator* allocator = nullptr;
  OrtIoBinding* binding = nullptr;
  OrtIoBinding* settled = nullptr;

  ~Floor() {
    if (api == nullptr) return;
    if (binding != nullptr) api->ReleaseIoBinding(binding);
    if (settled != nullptr) api->ReleaseIoBinding(settled);
    values.clear();
    session.reset();
    if (memory != nullptr) api->ReleaseMemoryInfo(memory);
    env.reset();
  }

  // Run only reads the inputs, so threads share them; each thread has its own output slots.
  void run_into(std::vector<OrtValue*>& slots) {
    check(api, api->Run(*session, nullptr, input_names.data(), raw_inputs.data(), raw_inputs.size(),
                        output_names.data(), output_names.size(), slots.data()));
    for (auto*& out : slots) {
      api->ReleaseValue(out);
      out = nullptr;
    }
  }
  void run() { run_into(outputs); }
  void bind_outputs(OrtIoBinding* io) {
    for (const char* name : output_names) check(api, api->BindOutputToDevice(io, name, memory));
  }
  void bound_run() {
    for (size_t i = 0; i < raw_inputs.size(); ++i) check(api, api->BindInput(binding, input_names[i], raw_inputs[i]));
    check(api, api->RunWithBinding(*session, nullptr, binding));
    OrtValue** fetched = nullptr;
    size_t count = 0;
    check(api, api->GetBoundOutputValues(binding, allocator, &fetched, &count));
    for (size_t i = 0; i < count; ++i) api->ReleaseValue(fetched[i]);
    check(api, api->AllocatorFree(allocator, fetched));
    bind_outputs(binding);
  }
  void settled_run() { check(api, api->RunWithBinding(*session, nullptr, settled)); }
};

void write_error(const std::string& message, char* error, size_t error_size) {
  if (error == nullptr || error_size == 0) return;
  std::snprintf(error, error_size, "%s", message.c_str());
}

}  // namespace

extern "C" {

// Null on failure, with the reason in `error`.
__attribute__((visibility("default"))) void* floor_open(const char* library_path, const char* model,
                                                        const char* inputs_path, int intra_op_threads,
                                                        int inter_op_threads, int cpu_arena, char* error,
                                                        size_t error_size) {
  auto floor = std::make_unique<Floor>();
  try {
    void* library = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) throw std::runtime_error(dlerror());
    using GetApiBase = const OrtApiBase* (*)();
    auto get_api_base = reinterpret_cast<GetApiBase>(dlsym(library, "OrtGetApiBase"));
    if (get_api_base == nullptr) throw std::runtime_error("the runtime has no OrtGetApiBase");
    const OrtApiBase* base = get_api_base();
    const OrtApi* api = base->GetApi(ORT_API_VERSION);
    if (api == nullptr) throw std::runtime_error("the runtime lacks API " + std::to_string(ORT_API_VERSION));
    Ort::InitApi(api);
    floor->api = api;
    floor->version = base->GetVersionString();
    floor->env = std::make_unique<Ort::Env>(ORT_LOGGING_LEVEL_WARNING, "floor");
    Ort::SessionOptions options;
    options.SetIntraOpNumThreads(intra_op_threads);
    options.SetInterOpNumThreads(inter_op_threads);
    options.SetGraphOptimizationLevel(ORT_ENABLE_ALL);
    options.SetExecutionMode(ORT_SEQUENTIAL);
    // cpu_arena: 1 on, 0 off, anything else ONNX Runtime's default (on), as ortbind's cpu_arena=None.
    if (cpu_arena == 1) options.EnableCpuMemArena();
    if (cpu_arena == 0) options.DisableCpuMemArena();
    floor->session = std::make_unique<Ort::Session>(*floor->env, model, options);

    floor->inputs = read_inputs(inputs_path);
    check(api, api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &floor->memory));
    for (auto& input : floor->inputs) {
      size_t count = 1;
      for (auto d : input.shape) count *= static_cast<size_t>(d);
      if (input.data.size() != count * element_size(input.element))
        throw std::runtime_error(input.name + " has " + std::to_string(input.data.size()) + " bytes");
      floor->values.push_back(Ort::Value::CreateTensor(floor->memory, input.data.data(), input.data.size(),
                                                       input.shape.data(), input.shape.size(), input.element));
      floor->input_names.push_back(input.name.c_str());
    }
    check(api, api->GetAllocatorWithDefaultOptions(&floor->allocator));
    Ort::AllocatorWithDefaultOptions allocator;
    for (size_t i = 0; i < floor->session->GetOutputCount(); ++i)
      floor->output_strings.emplace_back(floor->session->GetOutputNameAllocated(i, allocator).get());
    for (auto& name : floor->output_strings) floor->output_names.push_back(name.c_str());
    for (auto& v : floor->values) floor->raw_inputs.push_back(v);
    floor->outputs.assign(floor->output_names.size(), nullptr);

    check(api, api->CreateIoBinding(*floor->session, &floor->binding));
    floor->bind_outputs(floor->binding);
    check(api, api->CreateIoBinding(*floor->session, &floor->settled));
    for (size_t i = 0; i < floor->raw_inputs.size(); ++i)
      check(api, api->BindInput(floor->settled, floor->input_names[i], floor->raw_inputs[i]));
    floor->bind_outputs(floor->settled);
    floor->run();
    floor->bound_run();
    floor->settled_run();
  } catch (const std::exception& e) {
    write_error(e.what(), error, error_size);
    return nullptr;
  }
  return floor.release();
}

__attribute__((visibility("default"))) const char* floor_version(void* floor) {
  return static_cast<Floor*>(floor)->version.c_str();
}

// Times `count` calls of `kind` (0 Run, 1 bound, 2 bound once) into `samples`; 0 on success, else -1
// with the reason in `error`.
__attribute__((visibility("default"))) int floor_block(void* handle, int kind, size_t count, long long* samples,
                                                       char* error, size_t error_size) {
  auto* floor = static_cast<Floor*>(handle);
  try {
    for (size_t i = 0; i < count; ++i) {
      const auto start = std::chrono::steady_clock::now();
      if (kind == 1)
        floor->bound_run();
      else if (kind == 2)
        floor->settled_run();
      else
        floor->run();
      const auto stop = std::chrono::steady_clock::now();
      samples[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count();
    }
  } catch (const std::exception& e) {
    write_error(e.what(), error, error_size);
    return -1;
  }
  return 0;
}

// Runs `count` Run calls on each of `threads` threads at once on the floor's one session; the wall
// time from the moment every thread is ready to the end of the last call goes to `wall_ns`. 0 on
// success, else -1 with the first failing thread's reason in `error`.
__attribute__((visibility("default"))) int floor_threads(void* handle, int threads, size_t count, long long* wall_ns,
                                                         char* error, size_t error_size) {
  auto* floor = static_cast<Floor*>(handle);
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::string> errors(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  try {
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        std::vector<OrtValue*> slots(floor->output_names.size(), nullptr);
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        try {
          for (size_t i = 0; i < count; ++i) floor->run_into(slots);
        } catch (const std::exception& e) {
          errors[static_cast<size_t>(t)] = e.what();
        }
      });
    }
  } catch (const std::exception& e) {  // a thread that could not start: release those that did
    go.store(true, std::memory_order_release);
    for (auto& thread : pool) thread.join();
    write_error(e.what(), error, error_size);
    return -1;
  }
  while (ready.load() < threads) std::this_thread::yield();
  const auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  for (auto& thread : pool) thread.join();
  const auto stop = std::chrono::steady_clock::now();
  *wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start).count();
  for (const auto& message : errors) {
    if (!message.empty()) {
      write_error(message, error, error_size);
      return -1;
    }
  }
  return 0;
}

__attribute__((visibility("default"))) void floor_close(void* floor) { delete static_cast<Floor*>(floor); }

}  // extern "C"
