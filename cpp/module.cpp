// ortbind._core: registration only. Each area binds itself; the order matters only in that the
// exception classes exist before anything can raise, and the runtime is loaded before any class
// that calls into it is used.
#define ORTBIND_IMPORT_NUMPY
#include "common.hpp"
#include "loading.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "ortbind's compiled core over the ONNX Runtime C/C++ API; use the ortbind package.";
  if (_import_array() < 0) throw pybind11::error_already_set();
  // Every docstring starts with its callable's text signature ("name(self, a, *, b=None)\n--\n\n"),
  // which CPython turns into __text_signature__, so inspect.signature, help() and IDEs see real
  // parameters; pybind11's own signature lines (C++ types) would hide it.
  pybind11::options options;
  options.disable_function_signatures();
  ortbind::bind_errors(m);
  ortbind::bind_loader(m);
  ortbind::bind_types(m);
  ortbind::bind_env(m);
  ortbind::bind_contract(m);
  ortbind::bind_cancel(m);
  ortbind::bind_prepacked(m);
  ortbind::bind_adapters(m);
  ortbind::bind_session(m);
  ortbind::bind_binding(m);
}
