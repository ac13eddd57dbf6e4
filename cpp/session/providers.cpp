// Execution providers: which the loaded runtime has, and adding them to a session's options by name
// with their options.
#include "session/providers.hpp"

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
  if (!PySequence_Check(providers.ptr()) || PyDict_Check(providers.ptr()))
    fail(Problem::Kind, std::string("providers must be a sequence of names and (name, {option: value}) pairs, not ") +
                            Py_TYPE(providers.ptr())->tp_name);
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

}  // namespace ortbind
