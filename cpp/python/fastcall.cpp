#include "python/fastcall.hpp"

namespace ortbind {

std::string fastcall_text_signature(const FastcallSignature& signature, const char* first, Py_ssize_t count) {
  std::string text = std::string("($self") + first;
  for (Py_ssize_t i = 0; i < count; ++i) {
    if (i == signature.positional) text += ", *";
    text += std::string(", ") + signature.names[i] + (i < signature.required ? "" : "=None");
  }
  return text + ")";
}

bool parse_fastcall(const FastcallSignature& signature, Py_ssize_t count, PyObject* const* args, Py_ssize_t nargs,
                    PyObject* kwnames, PyObject** values) {
  const char* function = signature.function;
  if (nargs > signature.positional) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most %zd positional arguments, %zd given", function,
                 signature.positional, nargs);
    return false;
  }
  for (Py_ssize_t i = 0; i < count; ++i) values[i] = i < nargs ? args[i] : nullptr;
  const Py_ssize_t n_keywords = kwnames != nullptr ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < n_keywords; ++k) {
    PyObject* key = PyTuple_GET_ITEM(kwnames, k);
    Py_ssize_t slot = -1;
    for (Py_ssize_t j = 0; j < count; ++j)
      if (PyUnicode_CompareWithASCIIString(key, signature.names[j]) == 0) slot = j;
    if (slot < 0) {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument %R", function, key);
      return false;
    }
    if (values[slot] != nullptr) {
      PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", function, signature.names[slot]);
      return false;
    }
    values[slot] = args[nargs + k];
  }
  for (Py_ssize_t i = 0; i < count; ++i) {
    if (values[i] != nullptr) continue;
    if (i < signature.required) {
      PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", function, signature.names[i]);
      return false;
    }
    values[i] = Py_None;
  }
  return true;
}

void add_fastcall_method(py::handle cls, PyMethodDef& def) {
  py::object method =
      py::reinterpret_steal<py::object>(PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), &def));
  if (!method) throw py::error_already_set();
  py::setattr(cls, def.ml_name, method);
}

}  // namespace ortbind
