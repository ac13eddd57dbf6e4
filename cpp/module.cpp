// ortbind._core: registration only. Each area registers itself; the order matters only in that the
// exception classes exist before anything can raise, and the runtime is loaded before any class
// that calls into it is used.
#define ORTBIND_IMPORT_NUMPY
#include "python/register.hpp"

// py::mod_gil_not_used(): the module runs without the GIL on a free-threaded CPython. No state of
// ortbind's relies on the GIL for safety: CONTRIBUTING.md names the lock that guards each piece.
PYBIND11_MODULE(_core, m, pybind11::mod_gil_not_used()) {
  m.doc() = "ortbind's compiled core over the ONNX Runtime C/C++ API; use the ortbind package.";
  if (_import_array() < 0) throw pybind11::error_already_set();
  // Every docstring starts with its callable's text signature ("name(self, a, *, b=None)\n--\n\n"),
  // which CPython turns into __text_signature__, so inspect.signature, help() and IDEs see real
  // parameters; pybind11's own signature lines (C++ types) would hide it.
  pybind11::options options;
  options.disable_function_signatures();
  ortbind::register_errors(m);
  ortbind::register_runtime(m);
  ortbind::register_values(m);
  ortbind::register_env(m);
  ortbind::register_contract(m);
  ortbind::register_stop(m);
  ortbind::register_extras(m);
  ortbind::register_session(m);
  ortbind::register_binding(m);
}
