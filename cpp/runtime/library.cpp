// Loads the ONNX Runtime shared library at import. ortbind never links against it: the library
// comes from the installed onnxruntime wheel (or ORTBIND_LIBRARY).
#include "runtime/library.hpp"

#include "runtime/features.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>

namespace ortbind {
namespace {

const OrtApi* g_api = nullptr;

RuntimeInfo g_runtime;

using GetApiBaseFn = const OrtApiBase* (*)();

// The C API version to ask for: ONNX Runtime 1.N provides versions 1 to N, so N from its version
// string, up to what the headers describe. (Asking for a version the runtime lacks returns null
// and prints a line on stderr, so it is not probed.) 0 when the string is not "1.N...".
uint32_t wanted_api(const std::string& version) {
  if (version.rfind("1.", 0) != 0) return 0;
  const unsigned long minor = std::strtoul(version.c_str() + 2, nullptr, 10);
  return static_cast<uint32_t>(std::min<unsigned long>(minor, ORT_API_VERSION));
}

}  // namespace

void load_runtime(const std::string& path) {
  // RTLD_LOCAL: the runtime's symbols stay out of the global namespace, so another copy of ONNX
  // Runtime in the process (the official binding links its own) cannot be mixed up with ours.
  // The handle is never closed: sessions and output arrays may outlive this module's users, and
  // ORT's own static state must stay valid until the process ends.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    throw py::import_error("ortbind: could not load the ONNX Runtime library " + path + ": " + dlerror());
  }
  auto get_api_base = reinterpret_cast<GetApiBaseFn>(dlsym(handle, "OrtGetApiBase"));
  if (get_api_base == nullptr) {
    throw py::import_error("ortbind: " + path + " is not an ONNX Runtime library (no OrtGetApiBase)");
  }
  const OrtApiBase* base = get_api_base();
  const std::string version = base->GetVersionString();
  uint32_t wanted = wanted_api(version);
  if (wanted == 0) wanted = ORT_API_VERSION;  // a version string of another shape: ask for the headers'
  const OrtApi* table = wanted >= kBaselineApi ? base->GetApi(wanted) : nullptr;
  if (table == nullptr) {
    throw py::import_error("ortbind: ONNX Runtime " + version + " at " + path + " does not provide C API version " +
                           std::to_string(kBaselineApi) + ", the oldest ortbind runs on; install onnxruntime>=1." +
                           std::to_string(kBaselineApi) + " or point ORTBIND_LIBRARY at one.");
  }
  g_api = table;
  Ort::InitApi(table);
  g_runtime = {path, version, wanted};
}

const RuntimeInfo& runtime_info() { return g_runtime; }

const OrtApi& api() { return *g_api; }

}  // namespace ortbind
