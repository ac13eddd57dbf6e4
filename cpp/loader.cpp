// Finds and loads the ONNX Runtime shared library at import. ortbind never links against it: the
// library comes from the installed onnxruntime wheel (or ORTBIND_LIBRARY), and its C API table is
// handed to the C++ API with Ort::InitApi (ORT_API_MANUAL_INIT).
#include "common.hpp"
#include "loading.hpp"

#include <dlfcn.h>

namespace ortbind {
namespace {

const OrtApi* g_api = nullptr;

struct RuntimeInfo {
  std::string path;
  std::string version;
};
RuntimeInfo g_runtime;

using GetApiBaseFn = const OrtApiBase* (*)();

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

}  // namespace

const OrtApi& api() { return *g_api; }

void bind_loader(py::module_& m) {
  const auto path = py::module_::import("ortbind._runtime").attr("library_path")().cast<std::string>();
  load_runtime(path);

  m.attr("RUNTIME_PATH") = g_runtime.path;
  m.attr("RUNTIME_VERSION") = g_runtime.version;
  m.attr("API_VERSION") = ORT_API_VERSION;
  // The headers this module was compiled against: the benchmark suite builds its C++ floor with them.
  m.attr("HEADERS_DIR") = ORTBIND_ORT_INCLUDE_DIR;

  m.def(
      "available_providers", [] { return available_providers(); },
      "available_providers()\n--\n\nExecution providers compiled into the loaded ONNX Runtime, in its order of "
      "preference.");
}

}  // namespace ortbind
