// The element-type table as Python reads it (_core.ELEMENT_TYPES): names, numpy dtypes and
// conversion rules in the Python layer all derive from it.
#include "python/register.hpp"

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
}

}  // namespace ortbind
