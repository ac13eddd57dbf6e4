// Execution providers: which the loaded runtime has, and adding them to a session's options by name
// with their options.
#include "session/providers.hpp"

#include <algorithm>

#include <algorithm>
#include <map>

namespace ortbind {

std::vector<std::string> runtime_providers() {
  char** names = nullptr;
  int count = 0;
  check(api().GetAvailableProviders(&names, &count));
  std::vector<std::string> available(names, names + count);
  check(api().ReleaseAvailableProviders(names, count));
  return available;
}

std::vector<std::string> available_providers() {
  std::vector<std::string> available = runtime_providers();
  for (const auto& library : provider_libraries()) available.push_back(library->name());
  return available;
}

namespace {

std::string describe_options(const ProviderOptions& options) {
  std::string text;
  for (const auto& [key, value] : options) text += (text.empty() ? "" : ", ") + quoted(key) + ": " + quoted(value);
  return "{" + text + "}";
}

struct ParsedProvider {
  std::string name;
  py::object device;  // set for a (device, {option: value}) pair
  ProviderOptions options;
};

// One entry of providers=: a name, or (name, {option: value}), or (device, {option: value}). Option
// values are passed to ONNX Runtime as str(value), as the official binding does.
ParsedProvider parse_provider(py::handle item, bool (*is_device)(py::handle)) {
  if (py::isinstance<py::str>(item)) return {item.cast<std::string>(), py::object(), {}};
  if (!(py::isinstance<py::tuple>(item) || py::isinstance<py::list>(item)) || py::len(item) != 2 ||
      !(py::isinstance<py::str>(item[py::int_(0)]) || is_device(item[py::int_(0)])))
    fail(Problem::Kind,
         "each provider must be a name, a (name, {option: value}) pair, a Device or a (Device, {option: value}) pair, "
         "not " +
             py::repr(item).cast<std::string>());
  ParsedProvider parsed;
  py::object first = item[py::int_(0)];
  if (is_device(first))
    parsed.device = first;
  else
    parsed.name = first.cast<std::string>();
  const std::string name = parsed.device ? py::repr(first).cast<std::string>() : parsed.name;
  py::object options = item[py::int_(1)];
  if (!py::hasattr(options, "items"))
    fail(Problem::Kind, "the options of execution provider " + quoted(name) + " must be a mapping, not " +
                            Py_TYPE(options.ptr())->tp_name);
  for (auto pair : options.attr("items")()) {
    auto kv = pair.cast<py::tuple>();
    if (!py::isinstance<py::str>(kv[0]))
      fail(Problem::Kind, "execution provider " + quoted(name) + ": option names must be str, not " +
                              py::repr(kv[0]).cast<std::string>());
    parsed.options.emplace_back(kv[0].cast<std::string>(), py::str(kv[1]).cast<std::string>());
  }
  return parsed;
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

namespace {

// A device entry of providers= (an ortbind.runtime.Device, possibly with options): found again
// among the devices the environment offers now, by what identifies it.
bool is_device(py::handle item) { return py::hasattr(item, "ep_name") && py::hasattr(item, "device_id"); }

void fail_unknown(const std::string& name) {
  std::string list;
  for (const auto& a : available_providers()) list += (list.empty() ? "" : ", ") + quoted(a);
  fail(Problem::Value, "execution provider " + quoted(name) +
                           " is not in this ONNX Runtime, nor a registered provider library; it has " + list);
}

void append_builtin(Ort::SessionOptions& options, const std::string& name, const ProviderOptions& provider_options) {
  try {
    append_provider(options, name, provider_options);
  } catch (const OrtError& error) {
    throw OrtError(
        error.code(),
        "execution provider " + quoted(name) +
            (provider_options.empty() ? std::string() : " with options " + describe_options(provider_options)) + ": " +
            error.what());
  }
}

#if ORTBIND_HEADERS_HAVE(22)
// SessionOptionsAppendExecutionProvider_V2: the devices of one provider, with its options.
void append_devices(Ort::SessionOptions& options, EnvCore& env, const std::vector<const OrtEpDevice*>& devices,
                    const std::string& what, const ProviderOptions& provider_options) {
  const Keys keys(provider_options);
  try {
    check(api().SessionOptionsAppendExecutionProvider_V2(options, env.env(), devices.data(), devices.size(),
                                                         keys.keys.data(), keys.values.data(), keys.keys.size()));
  } catch (const OrtError& error) {
    throw OrtError(error.code(), what + ": " + error.what());
  }
}

const OrtEpDevice* find_device(EnvCore& env, py::handle device) {
  const auto ep_name = device.attr("ep_name").cast<std::string>();
  const auto type = device.attr("type").cast<std::string>();
  const auto vendor_id = device.attr("vendor_id").cast<uint32_t>();
  const auto device_id = device.attr("device_id").cast<uint32_t>();
  for (const OrtEpDevice* candidate : ep_devices(env)) {
    const DeviceInfo info = describe_device(candidate);
    if (info.ep_name == ep_name && info.type == type && info.vendor_id == vendor_id && info.device_id == device_id)
      return candidate;
  }
  fail(Problem::Value, "device " + py::repr(device).cast<std::string>() +
                           " is no longer offered by ONNX Runtime (was its provider library unregistered?)");
}
#endif

}  // namespace

void ProviderSelection::add(Ort::SessionOptions& options, EnvCore& env, py::handle providers) {
  if (py::isinstance<py::str>(providers))
    fail(Problem::Kind, "providers must be a sequence of provider names, not one str");
  if (!PySequence_Check(providers.ptr()) || PyDict_Check(providers.ptr()))
    fail(Problem::Kind, std::string("providers must be a sequence of names and (name, {option: value}) pairs, not ") +
                            Py_TYPE(providers.ptr())->tp_name);
  const std::vector<std::string> builtin = runtime_providers();
  for (auto item : py::reinterpret_borrow<py::iterable>(providers)) {
    py::handle target = item;
    ProviderOptions provider_options;
    if (!is_device(item)) {
      auto parsed = parse_provider(item, is_device);
      target = parsed.device ? parsed.device : py::handle();
      provider_options = std::move(parsed.options);
      if (!parsed.device) {
        add_named(options, env, parsed.name, provider_options, builtin);
        continue;
      }
    }
    add_device(options, env, target, provider_options);
  }
}

void ProviderSelection::add_named(Ort::SessionOptions& options, EnvCore& env, const std::string& name,
                                  const ProviderOptions& provider_options, const std::vector<std::string>& builtin) {
  if (std::find(builtin.begin(), builtin.end(), name) != builtin.end()) {
    if (name == "CPUExecutionProvider") {
      // The CPU provider is always last in line and needs no registration; its memory settings are
      // cpu_arena= and memory_pattern=.
      if (!provider_options.empty())
        fail(Problem::Value, "execution provider 'CPUExecutionProvider' takes no options here (given " +
                                 describe_options(provider_options) + "); use cpu_arena= and memory_pattern=");
      return;
    }
    other_providers = true;
    append_builtin(options, name, provider_options);
    return;
  }
  std::shared_ptr<ProviderLibrary> library = find_provider_library(name);
  if (!library) fail_unknown(name);
#if ORTBIND_HEADERS_HAVE(22)
  // A plugin by name means every device its provider offers, as the official binding resolves it.
  std::vector<const OrtEpDevice*> devices;
  for (const OrtEpDevice* device : ep_devices(env))
    if (name == api().EpDevice_EpName(device)) devices.push_back(device);
  if (devices.empty()) fail(Problem::Value, "provider library " + quoted(name) + " offers no device on this machine");
  append_devices(options, env, devices, "execution provider " + quoted(name), provider_options);
  libraries.push_back(std::move(library));
  other_providers = true;
#else
  (void)env;
#endif
}

void ProviderSelection::add_device(Ort::SessionOptions& options, EnvCore& env, py::handle device,
                                   const ProviderOptions& provider_options) {
  require(Feature::kProviderLibraries, "a device in providers=");
#if ORTBIND_HEADERS_HAVE(22)
  const OrtEpDevice* found = find_device(env, device);
  const std::string ep_name = api().EpDevice_EpName(found);
  append_devices(options, env, {found}, "device " + py::repr(device).cast<std::string>(), provider_options);
  if (auto library = find_provider_library(ep_name)) libraries.push_back(std::move(library));
  if (ep_name != "CPUExecutionProvider") other_providers = true;
#else
  (void)options;
  (void)env;
  (void)device;
  (void)provider_options;
#endif
}

void ProviderSelection::set_policy(Ort::SessionOptions& options, const std::string& policy) {
  require(Feature::kProviderPolicy, "provider_policy=");
#if ORTBIND_HEADERS_HAVE(22)
  static const std::pair<const char*, OrtExecutionProviderDevicePolicy> kPolicies[] = {
      {"default", OrtExecutionProviderDevicePolicy_DEFAULT},
      {"prefer_cpu", OrtExecutionProviderDevicePolicy_PREFER_CPU},
      {"prefer_npu", OrtExecutionProviderDevicePolicy_PREFER_NPU},
      {"prefer_gpu", OrtExecutionProviderDevicePolicy_PREFER_GPU},
      {"max_performance", OrtExecutionProviderDevicePolicy_MAX_PERFORMANCE},
      {"max_efficiency", OrtExecutionProviderDevicePolicy_MAX_EFFICIENCY},
      {"min_overall_power", OrtExecutionProviderDevicePolicy_MIN_OVERALL_POWER},
  };
  std::string names;
  for (const auto& [name, value] : kPolicies) {
    if (policy == name) {
      check(api().SessionOptionsSetEpSelectionPolicy(options, value));
      // The policy may pick any registered plugin's device (and a device of another kind than the CPU).
      libraries = provider_libraries();
      other_providers = true;
      return;
    }
    names += (names.empty() ? "" : ", ") + quoted(name);
  }
  fail(Problem::Value, "provider_policy must be one of " + names + ", not " + quoted(policy));
#else
  (void)options;
  (void)policy;
#endif
}

}  // namespace ortbind
