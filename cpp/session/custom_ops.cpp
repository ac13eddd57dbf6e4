// Custom operator libraries: shared libraries exporting RegisterCustomOps, registered into a
// session's options.
#include "session/extras.hpp"

#include <sys/stat.h>

namespace ortbind {

void register_custom_op_libraries(Ort::SessionOptions& options, const std::vector<std::string>& paths) {
  for (const auto& path : paths) {
    // dlopen would search the library path for a bare name and report a missing file vaguely:
    // a path that names no file is refused here, by name.
    struct stat info{};
    if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
      fail(Problem::Value, "custom op library " + quoted(path) + " does not exist (or is not a file)");
    try {
      // _V2: ONNX Runtime owns the library handle and unloads it after the last session that
      // registered it is released, so ortbind keeps nothing.
      check(api().RegisterCustomOpsLibrary_V2(options, path.c_str()));
    } catch (const OrtError& error) {
      throw OrtError(error.code(), "custom op library " + quoted(path) +
                                       " could not be registered (it must be a shared library exporting "
                                       "RegisterCustomOps): " +
                                       error.what());
    }
  }
}

}  // namespace ortbind
