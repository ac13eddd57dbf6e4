// Execution provider libraries (plugins such as onnxruntime-ggml) and the devices the runtime
// offers through them. A library is registered with the process's environment and its providers'
// devices appear there; ONNX Runtime forgets registrations when that environment is released, and
// a session made with a plugin crashes the process if it runs after the plugin was unregistered
// (seen with the official binding). So a registration holds the environment, and each session made
// with a plugin holds its registration: unregistering is refused while such a session lives.
#pragma once
#include "common.hpp"

#include "runtime/env.hpp"
#include "runtime/features.hpp"

#include <memory>
#include <string>
#include <vector>

namespace ortbind {

class ProviderLibrary {
 public:
  ProviderLibrary(std::shared_ptr<EnvCore> env, std::string name, std::string path)
      : env_(std::move(env)), name_(std::move(name)), path_(std::move(path)) {}
  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  EnvCore& env() const { return *env_; }

 private:
  std::shared_ptr<EnvCore> env_;  // the registration lives in this environment
  std::string name_, path_;
};

// One device as ortbind describes it: what it is and which provider offers it. A session asks for it
// again by key when it is made, so a device whose library was unregistered meanwhile is refused
// by name rather than read from freed memory.
struct DeviceInfo {
  std::string ep_name, ep_vendor;
  std::vector<std::pair<std::string, std::string>> ep_metadata, ep_options;
  std::string type;  // "cpu", "gpu", "npu"
  std::string vendor;
  uint32_t vendor_id = 0, device_id = 0;
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Registers the library at `path` (absolute; ONNX Runtime resolves a relative one against its own
// folder) under `name` with the live environment, or the default one.
std::shared_ptr<ProviderLibrary> register_provider_library(const std::string& name, const std::string& path);
// Refused while a session made with it lives.
void unregister_provider_library(const std::string& name);
// The registration of that name, or null.
std::shared_ptr<ProviderLibrary> find_provider_library(const std::string& name);
// Every registration, for a session whose providers a policy picks.
std::vector<std::shared_ptr<ProviderLibrary>> provider_libraries();

#if ORTBIND_HEADERS_HAVE(22)
// The devices the environment offers now, described; and the OrtEpDevice behind a description.
std::vector<DeviceInfo> describe_devices(EnvCore& env);
std::vector<const OrtEpDevice*> ep_devices(EnvCore& env);
DeviceInfo describe_device(const OrtEpDevice* device);
#endif

}  // namespace ortbind
