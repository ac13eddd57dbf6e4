#pragma once
#include "common.hpp"

#include <memory>
#include <vector>

namespace ortbind {

// What the model declares for one input or output, read once when the session is made.
struct ValueType {
  ONNXType kind = ONNX_TYPE_UNKNOWN;
  ONNXTensorElementDataType element = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;  // tensors
  ONNXTensorElementDataType key = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;      // maps
  std::vector<int64_t> dims;                                                    // tensors: -1 for a dynamic dim
  std::vector<std::string> dim_names;    // tensors: the symbolic name of a dynamic dim, or ""
  std::shared_ptr<ValueType> contained;  // sequence element, map value, optional's content

  // As ONNX writes it: tensor(float32), sequence<map<int64, tensor(float32)>>, ...
  std::string describe() const;
  // Plain data for Python: (kind, element, shape, key, contained, describe()).
  py::tuple to_python() const;
};

ValueType describe_type(const Ort::ConstTypeInfo& info);

const char* element_name(ONNXTensorElementDataType element);
ONNXTensorElementDataType element_from_name(const std::string& name);

// The numpy dtype of a tensor element type (bfloat16 and float8 through ml_dtypes, when
// installed); DTypeError naming `what` when numpy cannot hold it. Borrowed reference.
PyArray_Descr* numpy_descr(ONNXTensorElementDataType element, const std::string& what);
// The same descriptor once numpy_descr has loaded it, else nullptr; never raises.
PyArray_Descr* loaded_descr(ONNXTensorElementDataType element);
// Whether an array of this dtype holds exactly these elements (same kind and width: int64 and
// longlong match; float64 never matches float32).
bool dtype_matches(const PyArray_Descr* given, ONNXTensorElementDataType element);
// The bits of a sub-byte element (4 or 2), which ONNX Runtime packs several to a byte and numpy
// holds one to a byte; 0 for every other element type.
int packed_bits(ONNXTensorElementDataType element);
// numpy's name of a dtype, for messages.
std::string dtype_name(const PyArray_Descr* descr);

}  // namespace ortbind
