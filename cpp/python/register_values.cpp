// The element-type table as Python reads it (_core.ELEMENT_TYPES): names, numpy dtypes and
// conversion rules in the Python layer all derive from it. The DLPack helpers of the Python layer
// (the Batcher's requests, ortbind.DLPackArray).
#include "python/register.hpp"

#include "values/dlpack.hpp"
#include "values/element_types.hpp"

namespace ortbind {

void register_values(py::module_& m) {
  py::list rows;
  for (const auto& info : kElements) {
    if (info.element == ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED) continue;
    rows.append(py::make_tuple(
        info.name, static_cast<int>(info.element),
        info.ml_dtypes != nullptr ? py::object(py::str(info.ml_dtypes)) : py::object(py::none()),
        info.number_kind != 0 ? py::object(py::str(std::string(1, info.number_kind))) : py::object(py::none()),
        info.bits));
  }
  // (name, ONNX Runtime's code, ml_dtypes attribute or None, number kind or None, bits per element)
  m.attr("ELEMENT_TYPES") = py::tuple(rows);

  m.def(
      "_from_dlpack",
      [](py::handle value, int element, const std::string& what) -> py::object {
        py::object array = dlpack_view(value, static_cast<ONNXTensorElementDataType>(element), what);
        return array ? array : py::none();
      },
      "_from_dlpack(value, element, what)\n--\n\n"
      "A numpy array over the buffer of `value` (an object with __dlpack__, in CPU memory) whose elements "
      "are of ONNX Runtime's element type `element`, or None when `value` has no __dlpack__; `what` names "
      "it in errors.");
  m.def(
      "_dlpack_capsule",
      [](py::handle array, bool versioned, bool copied) { return dlpack_capsule(array, versioned, copied); },
      "_dlpack_capsule(array, versioned, copied)\n--\n\n"
      "A DLPack capsule over a numpy array's buffer, holding the array until its consumer is done.");
  m.def(
      "_set_dlpack_array_type",
      [](py::handle type) {
        if (!PyType_Check(type.ptr()) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(type.ptr()), &PyArray_Type))
          fail(Problem::Kind, "the DLPack array type must be an ndarray subclass");
        set_dlpack_array_type(reinterpret_cast<PyTypeObject*>(type.ptr()));
      },
      "_set_dlpack_array_type(type)\n--\n\n"
      "The ndarray subclass that outputs of ml_dtypes' element types are made as (ortbind.DLPackArray).");
}

}  // namespace ortbind
