#include "runtime/provider_libraries.hpp"

#include <map>
#include <mutex>

namespace ortbind {
namespace {

std::mutex g_libraries_mutex;  // guards g_libraries
std::map<std::string, std::shared_ptr<ProviderLibrary>> g_libraries;

}  // namespace

std::shared_ptr<ProviderLibrary> register_provider_library(const std::string& name, const std::string& path) {
  require(Feature::kProviderLibraries, "registering an execution provider library");
#if ORTBIND_HEADERS_HAVE(22)
  if (name.empty() || name.find('\0') != std::string::npos)
    fail(Problem::Value, "a provider library's name must be a non-empty str without NUL characters");
  if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos)
    fail(Problem::Value,
         "a provider library's path must be absolute (ONNX Runtime resolves a relative one against "
         "its own folder), not " +
             quoted(path));
  std::shared_ptr<EnvCore> env = default_env();
  std::lock_guard<std::mutex> lock(g_libraries_mutex);
  if (g_libraries.count(name) != 0)
    fail(Problem::Value,
         "a provider library is already registered as " + quoted(name) + " (from " + g_libraries[name]->path() + ")");
  check(api().RegisterExecutionProviderLibrary(env->env(), name.c_str(), path.c_str()));
  auto library = std::make_shared<ProviderLibrary>(std::move(env), name, path);
  g_libraries[name] = library;
  return library;
#else
  (void)name;
  (void)path;
  return nullptr;
#endif
}

void unregister_provider_library(const std::string& name) {
  require(Feature::kProviderLibraries, "unregistering an execution provider library");
#if ORTBIND_HEADERS_HAVE(22)
  std::lock_guard<std::mutex> lock(g_libraries_mutex);
  auto found = g_libraries.find(name);
  if (found == g_libraries.end()) fail(Problem::Name, "no provider library is registered as " + quoted(name));
  // The registry's own share, and the caller's none: any other is a live session's.
  if (found->second.use_count() > 1)
    fail(Problem::Value, "provider library " + quoted(name) + " is used by " +
                             std::to_string(found->second.use_count() - 1) +
                             " live session(s); close them first (a session of an unregistered plugin would crash "
                             "the process when it runs)");
  check(api().UnregisterExecutionProviderLibrary(found->second->env().env(), name.c_str()));
  g_libraries.erase(found);
#else
  (void)name;
#endif
}

std::shared_ptr<ProviderLibrary> find_provider_library(const std::string& name) {
  std::lock_guard<std::mutex> lock(g_libraries_mutex);
  auto found = g_libraries.find(name);
  return found == g_libraries.end() ? nullptr : found->second;
}

std::vector<std::shared_ptr<ProviderLibrary>> provider_libraries() {
  std::lock_guard<std::mutex> lock(g_libraries_mutex);
  std::vector<std::shared_ptr<ProviderLibrary>> all;
  for (const auto& [name, library] : g_libraries) all.push_back(library);
  return all;
}

#if ORTBIND_HEADERS_HAVE(22)
namespace {

std::vector<std::pair<std::string, std::string>> pairs(const OrtKeyValuePairs* kv) {
  std::vector<std::pair<std::string, std::string>> out;
  if (kv == nullptr) return out;
  const char* const* keys = nullptr;
  const char* const* values = nullptr;
  size_t count = 0;
  api().GetKeyValuePairs(kv, &keys, &values, &count);
  for (size_t i = 0; i < count; ++i) out.emplace_back(keys[i], values[i] != nullptr ? values[i] : "");
  return out;
}

const char* type_name(OrtHardwareDeviceType type) {
  switch (type) {
    case OrtHardwareDeviceType_CPU:
      return "cpu";
    case OrtHardwareDeviceType_GPU:
      return "gpu";
    case OrtHardwareDeviceType_NPU:
      return "npu";
  }
  return "unknown";
}

}  // namespace

std::vector<const OrtEpDevice*> ep_devices(EnvCore& env) {
  require(Feature::kProviderLibraries, "listing the runtime's devices");
  const OrtEpDevice* const* devices = nullptr;
  size_t count = 0;
  check(api().GetEpDevices(env.env(), &devices, &count));
  return std::vector<const OrtEpDevice*>(devices, devices + count);
}

DeviceInfo describe_device(const OrtEpDevice* device) {
  const OrtApi& ort = api();
  const OrtHardwareDevice* hardware = ort.EpDevice_Device(device);
  DeviceInfo info;
  info.ep_name = ort.EpDevice_EpName(device);
  info.ep_vendor = ort.EpDevice_EpVendor(device);
  info.ep_metadata = pairs(ort.EpDevice_EpMetadata(device));
  info.ep_options = pairs(ort.EpDevice_EpOptions(device));
  info.type = type_name(ort.HardwareDevice_Type(hardware));
  info.vendor = ort.HardwareDevice_Vendor(hardware);
  info.vendor_id = ort.HardwareDevice_VendorId(hardware);
  info.device_id = ort.HardwareDevice_DeviceId(hardware);
  info.metadata = pairs(ort.HardwareDevice_Metadata(hardware));
  return info;
}

std::vector<DeviceInfo> describe_devices(EnvCore& env) {
  std::vector<DeviceInfo> described;
  for (const OrtEpDevice* device : ep_devices(env)) described.push_back(describe_device(device));
  return described;
}
#endif

}  // namespace ortbind
