// Execution providers, by name.
#pragma once
#include "common.hpp"

#include <string>
#include <vector>

namespace ortbind {

// The execution providers compiled into the loaded ONNX Runtime, in its order of preference.
std::vector<std::string> available_providers();
// `providers`: None, or a sequence of names and (name, {option: value}) pairs, in priority order.
// Returns whether a provider other than the CPU's was added.
bool add_providers(Ort::SessionOptions& options, py::handle providers);

}  // namespace ortbind
