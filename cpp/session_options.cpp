// Session options beyond the basic ones: execution providers with their options, the CPU arena and
// memory pattern, initializers from the caller's arrays, and external data given from memory.
#include "loading.hpp"

#include "types.hpp"

#include <algorithm>
#include <map>

namespace ortbind {

std::vector<std::string> available_providers() {
  char** names = nullptr;
  int count = 0;
  check(api().GetAvailableProviders(&names, &count));
  std::vector<std::string> available(names, names + count);
  check(api().ReleaseAvailableProviders(names, count));
  return available;
}

namespace {

using ProviderOptions = std::vector<std::pair<std::string, std::string>>;

std::string describe_options(const ProviderOptions& options) {
  std::string text;
  for (const auto& [key, value] : options) text += (text.empty() ? "" : ", ") + quoted(key) + ": " + quoted(value);
  return "{" + text + "}";
}

// One entry of providers=: a name, or (name, {option: value}). Option values are passed to ONNX
// Runtime as str(value), as the official binding does.
std::pair<std::string, ProviderOptions> parse_provider(py::handle item) {
  if (py::isinstance<py::str>(item)) return {item.cast<std::string>(), {}};
  if (!(py::isinstance<py::tuple>(item) || py::isinstance<py::list>(item)) || py::len(item) != 2 ||
      !py::isinstance<py::str>(item[py::int_(0)]))
    fail(Problem::Kind,
         "each provider must be a name or a (name, {option: value}) pair, not " + py::repr(item).cast<std::string>());
  const auto name = item[py::int_(0)].cast<std::string>();
  py::object options = item[py::int_(1)];
  if (!py::hasattr(options, "items"))
    fail(Problem::Kind, "the options of execution provider " + quoted(name) + " must be a mapping, not " +
                            Py_TYPE(options.ptr())->tp_name);
  ProviderOptions parsed;
  for (auto pair : options.attr("items")()) {
    auto kv = pair.cast<py::tuple>();
    if (!py::isinstance<py::str>(kv[0]))
      fail(Problem::Kind, "execution provider " + quoted(name) + ": option names must be str, not " +
                              py::repr(kv[0]).cast<std::string>());
    parsed.emplace_back(kv[0].cast<std::string>(), py::str(kv[1]).cast<std::string>());
  }
  return {name, parsed};
}

struct Keys {
  explicit Keys(const ProviderOptions& options) {
    for (const auto& [key, value] : options) {
      keys.push_back(key.c_str());
      values.push_back(value.c_str());
    }
  }
  std::vector<const char*> keys, values;
};

// CUDA and TensorRT take their options through their own option objects; every other provider
// through the generic call, which names providers without the "ExecutionProvider" suffix.
void append_provider(Ort::SessionOptions& session_options, const std::string& name, const ProviderOptions& options) {
  const Keys keys(options);
  if (name == "CUDAExecutionProvider") {
    OrtCUDAProviderOptionsV2* cuda = nullptr;
    check(api().CreateCUDAProviderOptions(&cuda));
    std::unique_ptr<OrtCUDAProviderOptionsV2, void (*)(OrtCUDAProviderOptionsV2*)> hold(
        cuda, [](OrtCUDAProviderOptionsV2* o) { api().ReleaseCUDAProviderOptions(o); });
    check(api().UpdateCUDAProviderOptions(cuda, keys.keys.data(), keys.values.data(), keys.keys.size()));
    check(api().SessionOptionsAppendExecutionProvider_CUDA_V2(session_options, cuda));
  } else if (name == "TensorrtExecutionProvider") {
    OrtTensorRTProviderOptionsV2* trt = nullptr;
    check(api().CreateTensorRTProviderOptions(&trt));
    std::unique_ptr<OrtTensorRTProviderOptionsV2, void (*)(OrtTensorRTProviderOptionsV2*)> hold(
        trt, [](OrtTensorRTProviderOptionsV2* o) { api().ReleaseTensorRTProviderOptions(o); });
    check(api().UpdateTensorRTProviderOptions(trt, keys.keys.data(), keys.values.data(), keys.keys.size()));
    check(api().SessionOptionsAppendExecutionProvider_TensorRT_V2(session_options, trt));
  } else {
    static const std::map<std::string, std::string> short_names = {
        {"AzureExecutionProvider", "AZURE"},
        {"QNNExecutionProvider", "QNN"},
        {"SNPEExecutionProvider", "SNPE"},
        {"XnnpackExecutionProvider", "XNNPACK"},
        {"OpenVINOExecutionProvider", "OpenVINO"},
        {"VitisAIExecutionProvider", "VitisAI"},
        {"CoreMLExecutionProvider", "CoreML"},
        {"WebNNExecutionProvider", "WebNN"},
        {"JsExecutionProvider", "JS"},
        {"DmlExecutionProvider", "DML"},
        {"WebGpuExecutionProvider", "WebGPU"},
        {"NvTensorRTRTXExecutionProvider", "NvTensorRtRtx"},
    };
    const auto found = short_names.find(name);
    const std::string& generic = found != short_names.end() ? found->second : name;
    check(api().SessionOptionsAppendExecutionProvider(session_options, generic.c_str(), keys.keys.data(),
                                                      keys.values.data(), keys.keys.size()));
  }
}

}  // namespace

bool add_providers(Ort::SessionOptions& session_options, py::handle providers) {
  if (providers.is_none()) return false;
  bool added = false;
  if (py::isinstance<py::str>(providers))
    fail(Problem::Kind, "providers must be a sequence of provider names, not one str");
  const std::vector<std::string> available = available_providers();
  for (auto item : py::reinterpret_borrow<py::iterable>(providers)) {
    auto [name, options] = parse_provider(item);
    if (std::find(available.begin(), available.end(), name) == available.end()) {
      std::string list;
      for (const auto& a : available) list += (list.empty() ? "" : ", ") + quoted(a);
      fail(Problem::Value, "execution provider " + quoted(name) + " is not in this ONNX Runtime; it has " + list);
    }
    if (name == "CPUExecutionProvider") {
      // The CPU provider is always last in line and needs no registration; its memory settings are
      // cpu_arena= and memory_pattern=.
      if (!options.empty())
        fail(Problem::Value, "execution provider 'CPUExecutionProvider' takes no options here (given " +
                                 describe_options(options) + "); use cpu_arena= and memory_pattern=");
      continue;
    }
    added = true;
    try {
      append_provider(session_options, name, options);
    } catch (const OrtError& error) {
      throw OrtError(error.code(),
                     "execution provider " + quoted(name) +
                         (options.empty() ? std::string() : " with options " + describe_options(options)) + ": " +
                         error.what());
    }
  }
  return added;
}

void set_memory(Ort::SessionOptions& options, std::optional<bool> cpu_arena, std::optional<bool> memory_pattern) {
  if (cpu_arena) *cpu_arena ? options.EnableCpuMemArena() : options.DisableCpuMemArena();
  if (memory_pattern) *memory_pattern ? options.EnableMemPattern() : options.DisableMemPattern();
}

std::shared_ptr<InitializerArrays> add_initializers(Ort::SessionOptions& options, py::handle initializers) {
  if (initializers.is_none()) return nullptr;
  if (!py::hasattr(initializers, "items"))
    fail(Problem::Kind, std::string("initializers must be a mapping of initializer name to numpy array, not ") +
                            Py_TYPE(initializers.ptr())->tp_name);
  auto held = std::make_shared<InitializerArrays>();
  for (auto pair : initializers.attr("items")()) {
    auto kv = pair.cast<py::tuple>();
    if (!py::isinstance<py::str>(kv[0]))
      fail(Problem::Kind, "initializer names must be str, not " + py::repr(kv[0]).cast<std::string>());
    const std::string name = text_bytes(kv[0]);
    py::handle value = kv[1];
    if (!PyArray_Check(value.ptr()))
      fail(Problem::Kind,
           "initializer " + quoted(name) + " must be a numpy array, not " + Py_TYPE(value.ptr())->tp_name);
    auto* given = reinterpret_cast<PyArrayObject*>(value.ptr());
    ONNXTensorElementDataType element = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
    // Numeric element types whose numpy layout is ONNX Runtime's (not strings, not packed 4-bit).
    for (int code = 1; code <= 20 && element == ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED; ++code) {
      const auto candidate = static_cast<ONNXTensorElementDataType>(code);
      if (candidate != ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING && dtype_matches(PyArray_DESCR(given), candidate))
        element = candidate;
    }
    if (element == ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED)
      fail(Problem::DType, "initializer " + quoted(name) + " has dtype " + dtype_name(PyArray_DESCR(given)) +
                               ", which is not a numeric ONNX element type");
    // ONNX Runtime reads the buffer in place for the session's life: a contiguous, aligned, native
    // array is used as it is (shared with the caller); any other layout is copied once, here.
    py::object array = py::reinterpret_borrow<py::object>(value);
    if (!PyArray_CHKFLAGS(given, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED) || !PyArray_ISNOTSWAPPED(given)) {
      PyArray_Descr* native = numpy_descr(element, "initializer " + quoted(name));
      Py_INCREF(native);
      PyObject* copy = PyArray_FromArray(given, native, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_ENSURECOPY);
      if (copy == nullptr) throw py::error_already_set();
      array = py::reinterpret_steal<py::object>(copy);
    }
    held->values.emplace_back(tensor_over_array(reinterpret_cast<PyArrayObject*>(array.ptr()), element));
    held->arrays.push_back(std::move(array));
    held->names.push_back(name);
  }
  for (size_t i = 0; i < held->names.size(); ++i)
    check(api().AddInitializer(options, held->names[i].c_str(), held->values[i].get()));
  return held;
}

const Py_buffer& PinnedBuffers::pin(py::handle object, const std::string& what) {
  if (!PyObject_CheckBuffer(object.ptr()))
    fail(Problem::Kind, what + " must be bytes-like, not " + Py_TYPE(object.ptr())->tp_name);
  auto view = std::make_unique<Py_buffer>();
  if (PyObject_GetBuffer(object.ptr(), view.get(), PyBUF_CONTIG_RO) != 0) throw py::error_already_set();
  views_.push_back(std::move(view));
  return *views_.back();
}

PinnedBuffers::~PinnedBuffers() {
  for (auto& view : views_) PyBuffer_Release(view.get());
}

void add_external_data(Ort::SessionOptions& options, py::handle external_data, PinnedBuffers& pinned) {
  if (external_data.is_none()) return;
  if (!py::hasattr(external_data, "items"))
    fail(Problem::Kind, std::string("external_data must be a mapping of file name to bytes-like, not ") +
                            Py_TYPE(external_data.ptr())->tp_name);
  std::vector<std::string> names;
  std::vector<char*> buffers;
  std::vector<size_t> lengths;
  for (auto pair : external_data.attr("items")()) {
    auto kv = pair.cast<py::tuple>();
    if (!py::isinstance<py::str>(kv[0]))
      fail(Problem::Kind, "external data file names must be str, not " + py::repr(kv[0]).cast<std::string>());
    names.push_back(kv[0].cast<std::string>());
    // ONNX Runtime copies the tensors out of these buffers while the session is made; the
    // buffers stay pinned until then and are never written (the C API's char* is not const).
    const Py_buffer& view = pinned.pin(kv[1], "external_data[" + quoted(names.back()) + "]");
    buffers.push_back(static_cast<char*>(view.buf));
    lengths.push_back(static_cast<size_t>(view.len));
  }
  std::vector<const char*> name_ptrs;
  for (const auto& name : names) name_ptrs.push_back(name.c_str());
  if (!names.empty())
    check(api().AddExternalInitializersFromFilesInMemory(options, name_ptrs.data(), buffers.data(), lengths.data(),
                                                         names.size()));
}

}  // namespace ortbind
