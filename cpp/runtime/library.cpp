// Loads the ONNX Runtime shared library at import. ortbind never links against it: the library
// comes from the installed onnxruntime wheel (or ORTBIND_LIBRARY).
#include "runtime/library.hpp"

#include <dlfcn.h>

namespace ortbind {
namespace {

const OrtApi* g_api = nullptr;

RuntimeInfo g_runtime;

using GetApiBaseFn = const OrtApiBase* (*)();

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
  // GetApi returns null when the runtime is older than the API version the headers describe.
  const OrtApi* table = base->GetApi(ORT_API_VERSION);
  if (table == nullptr) {
    throw py::import_error("ortbind: ONNX Runtime " + version + " at " + path + " does not provide C API version " +
                           std::to_string(ORT_API_VERSION) + ", which ortbind was built for; install onnxruntime>=1." +
                           std::to_string(ORT_API_VERSION) + " or point ORTBIND_LIBRARY at one.");
  }
  g_api = table;
  Ort::InitApi(table);
  g_runtime = {path, version};
}

const RuntimeInfo& runtime_info() { return g_runtime; }

const OrtApi& api() { return *g_api; }

}  // namespace ortbind
