#include "values/value_type.hpp"

#include "values/element_types.hpp"

namespace ortbind {

std::string ValueType::describe() const {
  switch (kind) {
    case ONNX_TYPE_TENSOR:
      return std::string("tensor(") + element_name(element) + ")";
    case ONNX_TYPE_SPARSETENSOR:
      return std::string("sparse_tensor(") + element_name(element) + ")";
    case ONNX_TYPE_SEQUENCE:
      return "sequence<" + contained->describe() + ">";
    case ONNX_TYPE_MAP:
      // A map's values are tensors of one element each: named by their element type alone.
      return std::string("map<") + element_name(key) + ", " +
             (contained->kind == ONNX_TYPE_TENSOR ? element_name(contained->element) : contained->describe()) + ">";
    case ONNX_TYPE_OPTIONAL:
      return "optional<" + contained->describe() + ">";
    default:
      return "unknown";
  }
}

py::tuple ValueType::to_python() const {
  static const char* kinds[] = {"unknown", "tensor", "sequence", "map", "opaque", "sparse_tensor", "optional"};
  const auto k = static_cast<size_t>(kind);
  py::object shape = py::none();
  if (kind == ONNX_TYPE_TENSOR || kind == ONNX_TYPE_SPARSETENSOR) {
    py::list dims_out;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] >= 0)
        dims_out.append(dims[i]);
      else if (!dim_names[i].empty())
        dims_out.append(model_text(dim_names[i]));
      else
        dims_out.append(py::none());
    }
    shape = py::tuple(dims_out);
  }
  auto name_or_none = [](ONNXTensorElementDataType e) -> py::object {
    if (e == ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED) return py::none();
    return py::str(element_name(e));
  };
  return py::make_tuple(k < 7 ? kinds[k] : "unknown", name_or_none(element), shape, name_or_none(key),
                        contained ? py::object(contained->to_python()) : py::object(py::none()), describe());
}

ValueType describe_type(const Ort::ConstTypeInfo& info) {
  ValueType type;
  type.kind = info.GetONNXType();
  switch (type.kind) {
    case ONNX_TYPE_TENSOR:
    case ONNX_TYPE_SPARSETENSOR: {
      auto tensor = info.GetTensorTypeAndShapeInfo();
      type.element = tensor.GetElementType();
      type.dims = tensor.GetShape();
      type.dim_names.assign(type.dims.size(), "");
      std::vector<const char*> names(type.dims.size(), nullptr);
      if (!names.empty()) tensor.GetSymbolicDimensions(names.data(), names.size());
      for (size_t i = 0; i < names.size(); ++i)
        if (names[i] != nullptr) type.dim_names[i] = names[i];
      break;
    }
    case ONNX_TYPE_SEQUENCE: {
      auto element = info.GetSequenceTypeInfo().GetSequenceElementType();
      type.contained = std::make_shared<ValueType>(describe_type(element.GetConst()));
      break;
    }
    case ONNX_TYPE_MAP: {
      auto map = info.GetMapTypeInfo();
      type.key = map.GetMapKeyType();
      auto value = map.GetMapValueType();
      type.contained = std::make_shared<ValueType>(describe_type(value.GetConst()));
      break;
    }
    case ONNX_TYPE_OPTIONAL: {
      auto contained = info.GetOptionalTypeInfo().GetOptionalElementType();
      type.contained = std::make_shared<ValueType>(describe_type(contained.GetConst()));
      break;
    }
    default:
      break;
  }
  return type;
}

bool ValueType::is_plain_tensor() const {
  return kind == ONNX_TYPE_TENSOR && element != ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING &&
         element != ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED && packed_bits(element) == 0;
}

}  // namespace ortbind
