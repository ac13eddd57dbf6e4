#include "types.hpp"

#include <array>

namespace ortbind {
namespace {

// The one table of tensor element types, indexed by ONNXTensorElementDataType. Python reads it as
// _core.ELEMENT_TYPES (names, numpy dtypes and conversion rules all derive from it).
struct ElementInfo {
  ONNXTensorElementDataType element;
  const char* name;
  int type_num;           // numpy's builtin type number, or -1 (ml_dtypes or none)
  const char* ml_dtypes;  // the ml_dtypes attribute that holds it in numpy, or nullptr
  char number_kind;       // what its numbers are, for exact conversion: 'f', 'i', 'u', 'b', 'c'; 0 for strings
  int bits;               // bits per element in ONNX Runtime's buffer
};

constexpr std::array<ElementInfo, 27> kElements{{
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED, "undefined", -1, nullptr, 0, 0},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, "float32", NPY_FLOAT32, nullptr, 'f', 32},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, "uint8", NPY_UINT8, nullptr, 'u', 8},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8, "int8", NPY_INT8, nullptr, 'i', 8},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16, "uint16", NPY_UINT16, nullptr, 'u', 16},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16, "int16", NPY_INT16, nullptr, 'i', 16},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, "int32", NPY_INT32, nullptr, 'i', 32},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, "int64", NPY_INT64, nullptr, 'i', 64},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING, "string", -1, nullptr, 0, 0},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL, "bool", NPY_BOOL, nullptr, 'b', 8},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16, "float16", NPY_FLOAT16, nullptr, 'f', 16},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE, "float64", NPY_FLOAT64, nullptr, 'f', 64},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32, "uint32", NPY_UINT32, nullptr, 'u', 32},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64, "uint64", NPY_UINT64, nullptr, 'u', 64},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX64, "complex64", NPY_COMPLEX64, nullptr, 'c', 64},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX128, "complex128", NPY_COMPLEX128, nullptr, 'c', 128},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16, "bfloat16", -1, "bfloat16", 'f', 16},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E4M3FN, "float8_e4m3fn", -1, "float8_e4m3fn", 'f', 8},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E4M3FNUZ, "float8_e4m3fnuz", -1, "float8_e4m3fnuz", 'f', 8},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E5M2, "float8_e5m2", -1, "float8_e5m2", 'f', 8},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E5M2FNUZ, "float8_e5m2fnuz", -1, "float8_e5m2fnuz", 'f', 8},
    // Packed several to a byte by ONNX Runtime (the first element in the lowest bits); ml_dtypes spends
    // a byte on each, holding its bits in the lowest bits, so these are packed and unpacked by copy.
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT4, "uint4", -1, "uint4", 'u', 4},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT4, "int4", -1, "int4", 'i', 4},
    // The codes from here on are newer than the headers' API; a newer runtime takes and gives them all
    // the same. ONNX Runtime numbers the last three in its own order (ONNX's TensorProto has
    // FLOAT8E8M0 = 24, UINT2 = 25, INT2 = 26): measured with Cast on ONNX Runtime 1.32.
    {static_cast<ONNXTensorElementDataType>(23), "float4_e2m1", -1, "float4_e2m1fn", 'f', 4},
    {static_cast<ONNXTensorElementDataType>(24), "uint2", -1, "uint2", 'u', 2},
    {static_cast<ONNXTensorElementDataType>(25), "int2", -1, "int2", 'i', 2},
    {static_cast<ONNXTensorElementDataType>(26), "float8_e8m0", -1, "float8_e8m0fnu", 'f', 8},
}};

const ElementInfo* info_of(ONNXTensorElementDataType element) {
  const auto i = static_cast<size_t>(element);
  return i < kElements.size() ? &kElements[i] : nullptr;
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
  py::object dtype = py::module_::import("numpy").attr("dtype");
  for (size_t i = 0; i < kElements.size(); ++i) {
    if (kElements[i].ml_dtypes == nullptr || !py::hasattr(module, kElements[i].ml_dtypes)) continue;
    g_descr[i] = reinterpret_cast<PyArray_Descr*>(dtype(module.attr(kElements[i].ml_dtypes)).release().ptr());
  }
}

}  // namespace

const char* element_name(ONNXTensorElementDataType element) {
  const ElementInfo* info = info_of(element);
  return info != nullptr ? info->name : "unknown";
}

ONNXTensorElementDataType element_from_name(const std::string& name) {
  for (const auto& info : kElements)
    if (name == info.name) return info.element;
  fail(Problem::Value, "unknown element type " + quoted(name));
}

int packed_bits(ONNXTensorElementDataType element) {
  const ElementInfo* info = info_of(element);
  return info != nullptr && info->bits < 8 ? info->bits : 0;
}

PyArray_Descr* numpy_descr(ONNXTensorElementDataType element, const std::string& what) {
  const ElementInfo* info = info_of(element);
  if (info == nullptr || info->bits == 0) {
    fail(Problem::DType, what + " has element type " + element_name(element) + ", which has no numpy dtype");
  }
  const auto i = static_cast<size_t>(element);
  if (g_descr[i] == nullptr) {
    if (info->ml_dtypes != nullptr) {
      load_ml_dtypes();
      if (g_descr[i] == nullptr) {
        fail(Problem::DType, what + " is " + info->name + ", which numpy holds only with the ml_dtypes package (" +
                                 info->ml_dtypes + "); pip install -U ml_dtypes");
      }
    } else {
      g_descr[i] = PyArray_DescrFromType(info->type_num);
    }
  }
  return g_descr[i];
}

PyArray_Descr* loaded_descr(ONNXTensorElementDataType element) {
  const auto i = static_cast<size_t>(element);
  return i < g_descr.size() ? g_descr[i] : nullptr;
}

bool dtype_matches(const PyArray_Descr* given, ONNXTensorElementDataType element) {
  const ElementInfo* info = info_of(element);
  if (info == nullptr || info->bits == 0) return false;
  if (info->ml_dtypes == nullptr) {
    // By kind and width rather than type number: int64 and longlong are the same elements.
    const PyArray_Descr* builtin = numpy_descr(element, "");
    return given->kind == builtin->kind && PyDataType_ELSIZE(const_cast<PyArray_Descr*>(given)) ==
                                               PyDataType_ELSIZE(const_cast<PyArray_Descr*>(builtin));
  }
  if (given->type_num < NPY_USERDEF) return false;
  load_ml_dtypes();
  const auto i = static_cast<size_t>(element);
  return g_descr[i] != nullptr && given->type_num == g_descr[i]->type_num;
}

void bind_types(py::module_& m) {
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

std::string dtype_name(const PyArray_Descr* descr) {
  return py::str(reinterpret_cast<PyObject*>(const_cast<PyArray_Descr*>(descr)));
}

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

}  // namespace ortbind
