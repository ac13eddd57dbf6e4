// The run's outputs as Python sees them: a Result in the requested order, numpy views whose base
// owns each OrtValue, checked against a contract the user tightened.
#include "session/call.hpp"

#include "session/session.hpp"

#include <atomic>
#include <optional>

namespace ortbind {
namespace {

std::atomic<PyTypeObject*> g_result_type{nullptr};

const py::tuple& empty_args() {
  static py::tuple* empty = new py::tuple();  // never freed: it may be needed until the process ends
  return *empty;
}

}  // namespace

void set_result_type(PyTypeObject* type) {
  Py_INCREF(type);
  g_result_type.store(type);
}

PyTypeObject* result_type() { return g_result_type.load(); }

// The outputs as a Result (or dict) in the requested order, each computed output taking ownership
// of its OrtValue. A computed output that breaks the user's declared contract raises
// OutputShapeError here, after the run, carrying the complete result.
py::object collect(const Signature& signature, Call& call, PyObject* keys, bool keys_hold_preallocated) {
  auto& selected = call.selected;
  py::object result =
      result_type() != nullptr
          ? py::reinterpret_steal<py::object>(PyDict_Type.tp_new(result_type(), empty_args().ptr(), nullptr))
          : py::reinterpret_steal<py::object>(PyDict_New());
  if (!result) throw py::error_already_set();
  // Many outputs: the keys in order, cloned in one step from a dict made once (CPython copies a
  // compact dict's table into an empty one whole), so that setting each value below neither grows
  // nor rehashes the table.
  if (keys != nullptr && PyDict_Update(result.ptr(), keys) != 0) throw py::error_already_set();
  std::optional<std::string> broken;
  for (size_t k = 0; k < selected.size(); ++k) {
    const size_t index = selected[k];
    if (keys_hold_preallocated && call.preallocated[k] != nullptr) continue;  // cloned in place already
    py::object value;
    if (call.preallocated[k] != nullptr) {
      value = py::reinterpret_borrow<py::object>(call.preallocated[k]);
    } else {
      value = signature.output_types[index].kind == ONNX_TYPE_TENSOR
                  ? tensor_to_python(call.results.take(k), "output", signature.output_names[index], &call.pool, index)
                  : value_to_python(call.results.take(k), "output", signature.output_names[index]);
      if (signature.output_is_input[index] && PyArray_Check(value.ptr())) {
        // Possibly the caller's own buffer (a feed returned as an output): an array of its own.
        value = py::reinterpret_steal<py::object>(
            PyArray_NewCopy(reinterpret_cast<PyArrayObject*>(value.ptr()), NPY_CORDER));
        if (!value) throw py::error_already_set();
      }
    }
    if (call.contract != nullptr && call.contract->check_computed[index] && call.preallocated[k] == nullptr &&
        !broken && PyArray_Check(value.ptr())) {
      auto* arr = reinterpret_cast<PyArrayObject*>(value.ptr());
      try {
        call.symbols->check(call.contract->outputs[index], false, index, PyArray_DIMS(arr), PyArray_NDIM(arr));
      } catch (const ValidationError& e) {
        broken = e.what();
      }
    }
    if (PyDict_SetItem(result.ptr(), signature.output_keys[index].ptr(), value.ptr()) != 0)
      throw py::error_already_set();
  }
  if (broken) {
    // The results are complete; the error carries them so that no work is lost.
    py::object cls = py::module_::import("ortbind._core").attr("OutputShapeError");
    py::object error = cls(*broken);
    error.attr("result") = result;
    PyErr_SetObject(cls.ptr(), error.ptr());
    throw py::error_already_set();
  }
  return result;
}

}  // namespace ortbind
