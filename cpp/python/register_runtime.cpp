// ortbind.runtime's facts: the loaded library, its version, the C API in use, its providers. The
// library is loaded here, as the module is imported: every later area calls into it.
#include "python/register.hpp"

#include "runtime/library.hpp"
#include "session/providers.hpp"

namespace ortbind {

void register_runtime(py::module_& m) {
  const auto path = py::module_::import("ortbind._library").attr("library_path")().cast<std::string>();
  load_runtime(path);

  m.attr("RUNTIME_PATH") = runtime_info().path;
  m.attr("RUNTIME_VERSION") = runtime_info().version;
  m.attr("API_VERSION") = ORT_API_VERSION;
  // The headers this module was compiled against: the benchmark suite builds its C++ floor with them.
  m.attr("HEADERS_DIR") = ORTBIND_ORT_INCLUDE_DIR;

  m.def(
      "available_providers", [] { return available_providers(); },
      "available_providers()\n--\n\nExecution providers compiled into the loaded ONNX Runtime, in its order of "
      "preference.");
}

}  // namespace ortbind
