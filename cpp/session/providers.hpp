// Execution providers: built into the runtime and added by name, or offered by a registered
// provider library (a plugin) and added by its devices, or picked by a selection policy.
#pragma once
#include "common.hpp"

#include "runtime/provider_libraries.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ortbind {

using ProviderOptions = std::vector<std::pair<std::string, std::string>>;

// The execution providers built into the loaded ONNX Runtime, in its order of preference.
std::vector<std::string> runtime_providers();
// Those, then the names of the registered provider libraries.
std::vector<std::string> available_providers();

// A session's providers, as its options add them.
struct ProviderSelection {
  // `providers`: a sequence of names, Devices, and (name or Device, {option: value}) pairs, in
  // priority order.
  void add(Ort::SessionOptions& options, EnvCore& env, py::handle providers);
  // provider_policy=: ONNX Runtime picks among the devices it offers.
  void set_policy(Ort::SessionOptions& options, const std::string& policy);

  bool other_providers = false;  // a provider besides the CPU's may run nodes
  // The provider libraries the session may run on: it holds them, so they are not unregistered
  // under it.
  std::vector<std::shared_ptr<ProviderLibrary>> libraries;

 private:
  void add_named(Ort::SessionOptions& options, EnvCore& env, const std::string& name,
                 const ProviderOptions& provider_options, const std::vector<std::string>& builtin);
  void add_device(Ort::SessionOptions& options, EnvCore& env, py::handle device,
                  const ProviderOptions& provider_options);
};

}  // namespace ortbind
