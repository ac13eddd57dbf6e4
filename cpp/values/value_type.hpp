// What a model declares for one of its values (a tensor's element type and dims, or a sequence, map
// or optional of such), read once when a session is made.
#pragma once
#include "common.hpp"

#include <memory>
#include <string>
#include <vector>

namespace ortbind {

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
  // A tensor whose elements ONNX Runtime can write into a caller's buffer: numeric, of whole bytes.
  bool is_plain_tensor() const;
};

ValueType describe_type(const Ort::ConstTypeInfo& info);

}  // namespace ortbind
