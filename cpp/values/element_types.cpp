#include "values/element_types.hpp"

#include <pybind11/gil_safe_call_once.h>

#include <atomic>

namespace ortbind {

const std::array<ElementInfo, 27> kElements{{
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED, "undefined", -1, nullptr, 0, 0, -1},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, "float32", NPY_FLOAT32, nullptr, 'f', 32, dlpack::kFloat},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, "uint8", NPY_UINT8, nullptr, 'u', 8, dlpack::kUInt},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8, "int8", NPY_INT8, nullptr, 'i', 8, dlpack::kInt},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16, "uint16", NPY_UINT16, nullptr, 'u', 16, dlpack::kUInt},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16, "int16", NPY_INT16, nullptr, 'i', 16, dlpack::kInt},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, "int32", NPY_INT32, nullptr, 'i', 32, dlpack::kInt},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, "int64", NPY_INT64, nullptr, 'i', 64, dlpack::kInt},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING, "string", -1, nullptr, 0, 0, -1},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL, "bool", NPY_BOOL, nullptr, 'b', 8, dlpack::kBool},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16, "float16", NPY_FLOAT16, nullptr, 'f', 16, dlpack::kFloat},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE, "float64", NPY_FLOAT64, nullptr, 'f', 64, dlpack::kFloat},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32, "uint32", NPY_UINT32, nullptr, 'u', 32, dlpack::kUInt},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64, "uint64", NPY_UINT64, nullptr, 'u', 64, dlpack::kUInt},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX64, "complex64", NPY_COMPLEX64, nullptr, 'c', 64, dlpack::kComplex},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_COMPLEX128, "complex128", NPY_COMPLEX128, nullptr, 'c', 128, dlpack::kComplex},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16, "bfloat16", -1, "bfloat16", 'f', 16, dlpack::kBfloat},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E4M3FN, "float8_e4m3fn", -1, "float8_e4m3fn", 'f', 8, dlpack::kFloat8_e4m3fn},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E4M3FNUZ, "float8_e4m3fnuz", -1, "float8_e4m3fnuz", 'f', 8,
     dlpack::kFloat8_e4m3fnuz},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E5M2, "float8_e5m2", -1, "float8_e5m2", 'f', 8, dlpack::kFloat8_e5m2},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E5M2FNUZ, "float8_e5m2fnuz", -1, "float8_e5m2fnuz", 'f', 8,
     dlpack::kFloat8_e5m2fnuz},
    // Packed several to a byte by ONNX Runtime (the first element in the lowest bits); ml_dtypes spends
    // a byte on each, holding its bits in the lowest bits, so these are packed and unpacked by copy.
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT4, "uint4", -1, "uint4", 'u', 4, -1},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT4, "int4", -1, "int4", 'i', 4, -1},
    // The codes from here on are newer than the headers' API; a newer runtime takes and gives them all
    // the same. ONNX Runtime numbers the last three in its own order (ONNX's TensorProto has
    // FLOAT8E8M0 = 24, UINT2 = 25, INT2 = 26): measured with Cast on ONNX Runtime 1.32.
    {static_cast<ONNXTensorElementDataType>(23), "float4_e2m1", -1, "float4_e2m1fn", 'f', 4, -1},
    {static_cast<ONNXTensorElementDataType>(24), "uint2", -1, "uint2", 'u', 2, -1},
    {static_cast<ONNXTensorElementDataType>(25), "int2", -1, "int2", 'i', 2, -1},
    {static_cast<ONNXTensorElementDataType>(26), "float8_e8m0", -1, "float8_e8m0fnu", 'f', 8, dlpack::kFloat8_e8m0fnu},
}};

namespace {

const ElementInfo* info_of(ONNXTensorElementDataType element) {
  const auto i = static_cast<size_t>(element);
  return i < kElements.size() ? &kElements[i] : nullptr;
}

// numpy descriptors, filled on first use and kept for the life of the process (numpy's builtin
// descriptors are immortal in practice; ml_dtypes' are owned by its module, which is never unloaded).
// Atomic: runs on several threads read them with no lock, and on a free-threaded interpreter nothing
// else orders a first store against those reads. Two threads may both store a builtin one: the same
// pointer.
std::array<std::atomic<PyArray_Descr*>, kElements.size()> g_descr{};

// ml_dtypes' descriptors, imported once. pybind11's once-helper releases the GIL while another
// thread finishes the import, so a thread waiting here never holds what the importer needs.
void load_ml_dtypes() {
  using Loaded = std::array<PyArray_Descr*, kElements.size()>;
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<Loaded> storage;
  const Loaded& loaded = storage
                             .call_once_and_store_result([] {
                               Loaded found{};
                               py::object module;
                               try {
                                 module = py::module_::import("ml_dtypes");
                               } catch (py::error_already_set&) {
                                 return found;  // optional: those element types then raise DTypeError when met
                               }
                               py::object dtype = py::module_::import("numpy").attr("dtype");
                               for (size_t i = 0; i < kElements.size(); ++i) {
                                 const char* attr = kElements[i].ml_dtypes;
                                 if (attr == nullptr || !py::hasattr(module, attr)) continue;
                                 found[i] = reinterpret_cast<PyArray_Descr*>(dtype(module.attr(attr)).release().ptr());
                               }
                               return found;
                             })
                             .get_stored();
  for (size_t i = 0; i < kElements.size(); ++i)
    if (loaded[i] != nullptr) g_descr[i].store(loaded[i], std::memory_order_release);
}

}  // namespace

const char* element_name(ONNXTensorElementDataType element) {
  const ElementInfo* info = info_of(element);
  return info != nullptr ? info->name : "unknown";
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
  if (PyArray_Descr* loaded = g_descr[i].load(std::memory_order_acquire)) return loaded;
  if (info->ml_dtypes != nullptr) {
    load_ml_dtypes();
    if (g_descr[i].load(std::memory_order_acquire) == nullptr) {
      fail(Problem::DType, what + " is " + info->name + ", which numpy holds only with the ml_dtypes package (" +
                               info->ml_dtypes + "); pip install -U ml_dtypes");
    }
  } else {
    g_descr[i].store(PyArray_DescrFromType(info->type_num), std::memory_order_release);
  }
  return g_descr[i].load(std::memory_order_acquire);
}

PyArray_Descr* loaded_descr(ONNXTensorElementDataType element) {
  const auto i = static_cast<size_t>(element);
  return i < g_descr.size() ? g_descr[i].load(std::memory_order_acquire) : nullptr;
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
  const auto i = static_cast<size_t>(element);
  const PyArray_Descr* loaded = g_descr[i].load(std::memory_order_acquire);
  if (loaded == nullptr) {
    load_ml_dtypes();
    loaded = g_descr[i].load(std::memory_order_acquire);
  }
  return loaded != nullptr && given->type_num == loaded->type_num;
}

ONNXTensorElementDataType element_of(const PyArray_Descr* descr) {
  for (const ElementInfo& info : kElements)
    if (info.bits != 0 && dtype_matches(descr, info.element)) return info.element;
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

std::string dtype_name(const PyArray_Descr* descr) {
  return py::str(reinterpret_cast<PyObject*>(const_cast<PyArray_Descr*>(descr)));
}

}  // namespace ortbind
