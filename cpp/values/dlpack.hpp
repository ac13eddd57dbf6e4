// Tensors of other frameworks through DLPack, both ways. In: any object with __dlpack__ in CPU
// memory becomes a numpy array over the producer's own buffer, which then takes every path a numpy
// input takes (the contract check, the one contiguous copy of another layout, the OrtValue over the
// buffer). Out: numpy arrays of the element types numpy cannot export itself (ml_dtypes' bfloat16
// and float8) export through ortbind.DLPackArray, whose __dlpack__ calls dlpack_capsule.
#pragma once
#include "common.hpp"

#include <string>

namespace ortbind {

// A numpy array over the buffer of `obj`, read through its DLPack capsule, when `obj` is not a numpy
// array and has __dlpack__; an empty object otherwise (and for string tensors, which DLPack cannot
// hold). The array's base owns the producer's tensor: the producer's deleter runs when the array and
// every view of it are gone. Raises, naming the value, for a tensor on another device than the CPU
// (InvalidValueError), of another element type than `element` (DTypeError: never a cast), or that
// its producer fails to export. `what` names the value in messages ("input 'x'").
py::object dlpack_view(py::handle obj, ONNXTensorElementDataType element, const std::string& what);

// dlpack_view for a model's value, with the check that keeps numpy arrays (the hot path) at one
// type test and builds the label only for other objects.
inline py::object array_from_dlpack(py::handle obj, ONNXTensorElementDataType element, const char* role,
                                    const std::string& name) {
  if (PyArray_Check(obj.ptr()) || element == ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING) return {};
  return dlpack_view(obj, element, std::string(role) + " " + quoted(name));
}

// Whether `obj` offers DLPack (__dlpack__), for the callers that take one array in place of a dict.
bool has_dlpack(py::handle obj);

// A DLPack capsule over a numpy array's buffer (versioned: "dltensor_versioned", else "dltensor"),
// which holds a reference to the array until the consumer calls the deleter. `copied` sets the
// versioned flag that says the array is a copy made for this export. BufferError for what DLPack
// cannot describe (strings, objects, packed sub-byte types, byte-swapped data, strides that are not
// whole elements, a read-only array asked for unversioned).
py::object dlpack_capsule(py::handle array, bool versioned, bool copied);

// The ndarray subclass outputs of the element types numpy cannot export are made as
// (ortbind.DLPackArray), set once when ortbind is imported; plain ndarray until then.
void set_dlpack_array_type(PyTypeObject* type);
PyTypeObject* dlpack_array_type();

// The type to make an output array of `descr` as: numpy exports its own types itself; those an
// extension defines (ml_dtypes') need the subclass.
inline PyTypeObject* output_array_type(const PyArray_Descr* descr) {
  return descr->type_num < NPY_USERDEF ? &PyArray_Type : dlpack_array_type();
}

}  // namespace ortbind
