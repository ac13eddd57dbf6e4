// METH_FASTCALL methods for the hot paths (Session.run, Binding.run): pybind11's general
// dispatcher allocates argument vectors on every call. One parameter table per method gives both
// the parser and the docstring's text signature (which inspect.signature reads, and stubtest checks
// _core.pyi against).
#pragma once
#include "python/register.hpp"

#include <string>

namespace ortbind {

struct FastcallSignature {
  const char* function;      // for messages: "run"
  const char* const* names;  // the parameters, in order
  Py_ssize_t count;
  Py_ssize_t positional;  // the first `positional` may be passed by position; the rest are keyword-only
  Py_ssize_t required;    // the first `required` must be given
};

// "($self, feeds, outputs=None, *, out=None)": `first` names leading positional parameters
// (", compiled") put before the table's `count` first ones.
std::string fastcall_text_signature(const FastcallSignature& signature, const char* first, Py_ssize_t count);

// Fills values[0..count) (count <= signature.count) from a METH_FASTCALL call, Py_None where not
// given; false, with a TypeError set, on a call that breaks the signature.
bool parse_fastcall(const FastcallSignature& signature, Py_ssize_t count, PyObject* const* args, Py_ssize_t nargs,
                    PyObject* kwnames, PyObject** values);

// The C++ object behind `self`, found with the type's record looked up once: the method descriptor
// has already checked self's type, so only whether __init__ ran remains.
template <typename T>
T& fastcall_self(PyObject* self, const char* what) {
  static py::detail::type_info* const type = py::detail::get_type_info(typeid(T));
  auto holder = reinterpret_cast<py::detail::instance*>(self)->get_value_and_holder(type);
  if (holder && holder.holder_constructed() && holder.value_ptr() != nullptr)
    return *static_cast<T*>(holder.value_ptr());
  return native<T>(self, what);
}

// Runs `body` (returning py::object) and hands its result to CPython, or sets the Python error for
// whatever it threw.
template <typename Body>
PyObject* fastcall_result(Body&& body) {
  try {
    return body().release().ptr();
  } catch (py::error_already_set& error) {
    error.restore();
  } catch (...) {
    py::detail::try_translate_exceptions();
  }
  return nullptr;
}

// Adds `def` (static: CPython keeps pointing at it) to a pybind11 class as a method.
void add_fastcall_method(py::handle cls, PyMethodDef& def);

}  // namespace ortbind
