#include "types.hpp"

#include <array>

namespace ortbind {
namespace {

struct ElementInfo {
  ONNXTensorElementDataType element;
  const char* name;
  char kind;   // numpy kind of the matching dtype; 0 when it comes from ml_dtypes or is not held
  int size;    // bytes per element in numpy
};

// Indexed by ONNXTensorElementDataType. ml_dtypes types have kind 0: they are matched by the dtype
// object ml_dtypes registers, looked up on first use.
constexpr std::array<ElementInfo, 24> kElements{{
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED, "undefined", 0, 0},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, "float32", 'f', 4},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, "uint8", 'u', 1},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8, "int8", 'i', 1},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16, "uint16", 'u', 2},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16, "int16", 'i', 2},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, "int32", 'i', 4},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, "int64", 'i', 8},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING, "string", 0, 0},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL, "bool", 'b', 1},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16, "float16", 'f', 2},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE, "float64", 'f', 8},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32, "uint32", 'u', 4},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64, "uint64", 'u', 8},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX64, "complex64", 'c', 8},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX128, "complex128", 'c', 16},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16, "bfloat16", 0, 2},
    {static_cast<ONNXTensorElementDataType>(17), "float8_e4m3fn", 0, 1},
    {static_cast<ONNXTensorElementDataType>(18), "float8_e4m3fnuz", 0, 1},
    {static_cast<ONNXTensorElementDataType>(19), "float8_e5m2", 0, 1},
    {static_cast<ONNXTensorElementDataType>(20), "float8_e5m2fnuz", 0, 1},
    // Packed two to a byte by ONNX Runtime; numpy (ml_dtypes) spends a byte on each, so no
    // zero-copy view exists and ortbind does not take or give them.
    {static_cast<ONNXTensorElementDataType>(21), "uint4", 0, 0},
    {static_cast<ONNXTensorElementDataType>(22), "int4", 0, 0},
    {static_cast<ONNXTensorElementDataType>(23), "float4_e2m1", 0, 0},
}};

bool is_ml_dtype(ONNXTensorElementDataType e) {
  const auto i = static_cast<size_t>(e);
  return i >= 16 && i <= 20;
}

// numpy descriptors, filled on first use and kept for the life of the process (numpy's builtin
// descriptors are immortal in practice; ml_dtypes' are owned by its module, which is never unloaded).
std::array<PyArray_Descr*, kElements.size()> g_descr{};
bool g_ml_dtypes_tried = false;

void load_ml_dtypes() {
  if (g_ml_dtypes_tried) return;
  g_ml_dtypes_tried = true;
  py::object module;
  try {
    module = py::module_::import("ml_dtypes");
  } catch (py::error_already_set&) {
    return;  // optional: those element types then raise DTypeError when met
  }
  for (size_t i = 16; i <= 20; ++i) {
    py::object dtype = py::module_::import("numpy").attr("dtype")(module.attr(kElements[i].name));
    g_descr[i] = reinterpret_cast<PyArray_Descr*>(dtype.release().ptr());
  }
}

}  // namespace

const char* element_name(ONNXTensorElementDataType element) {
  const auto i = static_cast<size_t>(element);
  return i < kElements.size() ? kElements[i].name : "unknown";
}

ONNXTensorElementDataType element_from_name(const std::string& name) {
  for (const auto& info : kElements)
    if (name == info.name) return info.element;
  fail(Problem::Value, "unknown element type " + quoted(name));
}

PyArray_Descr* numpy_descr(ONNXTensorElementDataType element, const std::string& what) {
  const auto i = static_cast<size_t>(element);
  if (i >= kElements.size() || element == ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED ||
      element == ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING) {
    fail(Problem::DType, what + " has element type " + element_name(element) +
                             ", which has no numpy dtype");
  }
  if (g_descr[i] == nullptr) {
    if (is_ml_dtype(element)) {
      load_ml_dtypes();
      if (g_descr[i] == nullptr) {
        fail(Problem::DType, what + " is " + element_name(element) +
                                 ", which numpy holds only with the ml_dtypes package; "
                                 "pip install ml_dtypes");
      }
    } else if (kElements[i].kind == 0) {
      fail(Problem::DType, what + " is " + element_name(element) +
                               ", which ONNX Runtime packs two to a byte; ortbind does not convert it");
    } else {
      static const std::array<int, kElements.size()> type_nums{
          0, NPY_FLOAT32, NPY_UINT8, NPY_INT8, NPY_UINT16, NPY_INT16, NPY_INT32, NPY_INT64, 0,
          NPY_BOOL, NPY_FLOAT16, NPY_FLOAT64, NPY_UINT32, NPY_UINT64, NPY_COMPLEX64, NPY_COMPLEX128};
      g_descr[i] = PyArray_DescrFromType(type_nums[i]);
    }
  }
  return g_descr[i];
}

bool dtype_matches(const PyArray_Descr* given, ONNXTensorElementDataType element) {
  const auto i = static_cast<size_t>(element);
  if (i >= kElements.size()) return false;
  const ElementInfo& info = kElements[i];
  if (info.kind != 0) return given->kind == info.kind && PyDataType_ELSIZE(const_cast<PyArray_Descr*>(given)) == info.size;
  if (is_ml_dtype(element)) {
    if (given->type_num < NPY_USERDEF) return false;
    load_ml_dtypes();
    return g_descr[i] != nullptr && given->type_num == g_descr[i]->type_num;
  }
  return false;
}

ONNXTensorElementDataType element_of(const PyArray_Descr* descr) {
  for (const auto& info : kElements) {
    if (info.kind != 0 && descr->kind == info.kind && PyDataType_ELSIZE(const_cast<PyArray_Descr*>(descr)) == info.size) return info.element;
  }
  if (descr->type_num >= NPY_USERDEF) {
    for (size_t i = 16; i <= 20; ++i)
      if (dtype_matches(descr, kElements[i].element)) return kElements[i].element;
  }
  if (descr->kind == 'U') return ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING;
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

std::string dtype_name(const PyArray_Descr* descr) {
  return py::str(reinterpret_cast<PyObject*>(const_cast<PyArray_Descr*>(descr)));
}

std::string ValueType::describe() const {
  switch (kind) {
    case ONNX_TYPE_TENSOR: return std::string("tensor(") + element_name(element) + ")";
    case ONNX_TYPE_SPARSETENSOR: return std::string("sparse_tensor(") + element_name(element) + ")";
    case ONNX_TYPE_SEQUENCE: return "sequence<" + contained->describe() + ">";
    case ONNX_TYPE_MAP:
      // A map's values are tensors of one element each: named by their element type alone.
      return std::string("map<") + element_name(key) + ", " +
             (contained->kind == ONNX_TYPE_TENSOR ? element_name(contained->element) : contained->describe()) + ">";
    case ONNX_TYPE_OPTIONAL: return "optional<" + contained->describe() + ">";
    default: return "unknown";
  }
}

py::tuple ValueType::to_python() const {
  static const char* kinds[] = {"unknown", "tensor", "sequence", "map", "opaque", "sparse_tensor", "optional"};
  const auto k = static_cast<size_t>(kind);
  py::object shape = py::none();
  if (kind == ONNX_TYPE_TENSOR || kind == ONNX_TYPE_SPARSETENSOR) {
    py::list dims_out;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] >= 0) dims_out.append(dims[i]);
      else if (!dim_names[i].empty()) dims_out.append(model_text(dim_names[i]));
      else dims_out.append(py::none());
    }
    shape = py::tuple(dims_out);
  }
  auto name_or_none = [](ONNXTensorElementDataType e) -> py::object {
    if (e == ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED) return py::none();
    return py::str(element_name(e));
  };
  return py::make_tuple(k < 7 ? kinds[k] : "unknown", name_or_none(element), shape, name_or_none(key),
                        contained ? py::object(contained->to_python()) : py::object(py::none()));
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


}  // namespace ortbind
