// The ONNX Runtime shared library: found by ortbind._runtime, dlopen'ed once at import, never
// linked against; its C API table is handed to the C++ API with Ort::InitApi
// (ORT_API_MANUAL_INIT).
#pragma once
#include "common.hpp"

#include <string>

namespace ortbind {

struct RuntimeInfo {
  std::string path;          // the file loaded
  std::string version;       // its own version string, "1.32.0"
  uint32_t api_version = 0;  // the C API version in use: the runtime's, up to the headers'
};

// Loads the library at `path` and sets api(); ImportError when it is not an ONNX Runtime or is older
// than the baseline C API (features.hpp). A newer runtime serves every older version's table.
void load_runtime(const std::string& path);
const RuntimeInfo& runtime_info();

}  // namespace ortbind
