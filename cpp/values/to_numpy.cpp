// OrtValue to Python: a numeric tensor becomes a numpy array over the OrtValue's own buffer, whose
// base (a capsule) owns the value; strings and sub-byte types are copied out; sequences become
// lists, maps dicts, an absent optional None.
#include "values/value.hpp"

#include "values/dlpack.hpp"
#include "values/element_types.hpp"

#include <array>

namespace ortbind {
namespace {

void release_capsule(PyObject* capsule) {
  api().ReleaseValue(static_cast<OrtValue*>(PyCapsule_GetPointer(capsule, kOrtValueCapsule)));
}

using Shape = std::array<int64_t, NPY_MAXDIMS>;

py::object string_tensor_to_python(OrtValue* value, const std::vector<int64_t>& dims) {
  size_t total_bytes = 0;
  check(api().GetStringTensorDataLength(value, &total_bytes));
  size_t count = 1;
  for (auto d : dims) count *= static_cast<size_t>(d);
  std::string buffer(total_bytes, '\0');
  std::vector<size_t> offsets(count);
  if (count > 0) check(api().GetStringTensorContent(value, buffer.data(), total_bytes, offsets.data(), count));
  py::list items(count);
  for (size_t i = 0; i < count; ++i) {
    const size_t end = i + 1 < count ? offsets[i + 1] : total_bytes;
    // surrogateescape: bytes that are not UTF-8 survive the round trip instead of being replaced.
    PyObject* text =
        PyUnicode_DecodeUTF8(buffer.data() + offsets[i], static_cast<Py_ssize_t>(end - offsets[i]), "surrogateescape");
    if (text == nullptr) throw py::error_already_set();
    PyList_SET_ITEM(items.ptr(), static_cast<Py_ssize_t>(i), text);
  }
  return convert_module().attr("string_array")(items, py::cast(dims));
}

OwnedValue child_value(OrtValue* parent, int index) {
  OrtValue* child = nullptr;
  check(api().GetValue(parent, index, default_allocator(), &child));
  return OwnedValue(child);
}

// No view can unpack sub-byte elements: a copy, one byte per element, its lowest bits holding it.
// Steals `descr`.
py::object unpacked_array(const void* data, int bits, npy_intp count, size_t ndim, npy_intp* shape,
                          PyArray_Descr* descr) {
  PyObject* unpacked = PyArray_Empty(static_cast<int>(ndim), shape, descr, 0);
  if (unpacked == nullptr) throw py::error_already_set();
  auto* out = static_cast<uint8_t*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(unpacked)));
  const auto* packed = static_cast<const uint8_t*>(data);
  const npy_intp per_byte = 8 / bits;
  const unsigned mask = (1u << bits) - 1;
  for (npy_intp i = 0; i < count; ++i)
    out[i] = static_cast<uint8_t>((packed[i / per_byte] >> (bits * (i % per_byte))) & mask);
  return py::reinterpret_steal<py::object>(unpacked);
}

}  // namespace

py::object tensor_to_python(OwnedValue value, const char* role, const std::string& name, OutputPool::Lease* pool,
                            size_t output) {
  OrtTensorTypeAndShapeInfo* info = nullptr;
  check(api().GetTensorTypeAndShape(value.get(), &info));
  ONNXTensorElementDataType element;
  size_t ndim = 0;
  Shape dims;
  {
    std::unique_ptr<OrtTensorTypeAndShapeInfo, void (*)(OrtTensorTypeAndShapeInfo*)> guard(
        info, [](OrtTensorTypeAndShapeInfo* p) { api().ReleaseTensorTypeAndShapeInfo(p); });
    check(api().GetTensorElementType(info, &element));
    check(api().GetDimensionsCount(info, &ndim));
    if (ndim > dims.size()) fail(Problem::Value, label(role, name) + " has more dims than numpy allows");
    check(api().GetDimensions(info, dims.data(), ndim));
  }
  if (element == ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING)
    return string_tensor_to_python(
        value.get(), std::vector<int64_t>(dims.begin(), dims.begin() + static_cast<std::ptrdiff_t>(ndim)));

  // The label is built only when the descriptor is not loaded yet: on the hot path it never is.
  PyArray_Descr* descr = loaded_descr(element);
  if (descr == nullptr) descr = numpy_descr(element, label(role, name));
  std::array<npy_intp, NPY_MAXDIMS> shape{};
  npy_intp count = 1;
  for (size_t i = 0; i < ndim; ++i) {
    shape[i] = static_cast<npy_intp>(dims[i]);
    count *= shape[i];
  }
  void* data = nullptr;
  check(api().GetTensorMutableData(value.get(), &data));
  Py_INCREF(descr);  // both constructors steal it
  if (const int bits = packed_bits(element)) return unpacked_array(data, bits, count, ndim, shape.data(), descr);
  // ml_dtypes' types (bfloat16, float8) as ortbind.DLPackArray, which exports them through DLPack
  // where numpy cannot.
  PyTypeObject* type = output_array_type(descr);
  if (count == 0 || data == nullptr) {
    // No buffer to share; numpy makes its own empty one.
    PyObject* empty =
        PyArray_NewFromDescr(type, descr, static_cast<int>(ndim), shape.data(), nullptr, nullptr, 0, nullptr);
    if (empty == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(empty);
  }
  PyObject* array =
      PyArray_NewFromDescr(type, descr, static_cast<int>(ndim), shape.data(), nullptr, data, NPY_ARRAY_CARRAY, nullptr);
  if (array == nullptr) throw py::error_already_set();
  py::object result = py::reinterpret_steal<py::object>(array);
  // The array's base owns the OrtValue, so the buffer lives exactly as long as any view of it (and
  // then goes back to the pool, or is freed); ONNX Runtime's tensor holds its allocator, so this
  // outlives the session and the environment.
  const bool recycled =
      pool != nullptr && pool->keeps(output, dims.data(), ndim,
                                     static_cast<size_t>(PyArray_NBYTES(reinterpret_cast<PyArrayObject*>(array))));
  PyObject* capsule =
      recycled ? pool->owner(value.get(), output) : PyCapsule_New(value.get(), kOrtValueCapsule, release_capsule);
  if (capsule == nullptr) throw py::error_already_set();
  value.release();
  if (PyArray_SetBaseObject(reinterpret_cast<PyArrayObject*>(array), capsule) != 0)  // steals capsule
    throw py::error_already_set();
  return result;
}

py::object value_to_python(OwnedValue value, const char* role, const std::string& name) {
  int present = 1;
  check(api().HasValue(value.get(), &present));
  if (!present) return py::none();
  ONNXType kind;
  check(api().GetValueType(value.get(), &kind));
  switch (kind) {
    case ONNX_TYPE_TENSOR:
      return tensor_to_python(std::move(value), role, name);
    case ONNX_TYPE_SEQUENCE: {
      size_t count = 0;
      check(api().GetValueCount(value.get(), &count));
      py::list items(count);
      for (size_t i = 0; i < count; ++i) {
        items[i] =
            value_to_python(child_value(value.get(), static_cast<int>(i)), role, name + "[" + std::to_string(i) + "]");
      }
      return std::move(items);
    }
    case ONNX_TYPE_MAP: {
      py::object keys = value_to_python(child_value(value.get(), 0), role, name);
      py::object values = value_to_python(child_value(value.get(), 1), role, name);
      return convert_module().attr("to_dict")(keys, values);
    }
    default:
      fail(Problem::Kind,
           label(role, name) + " is a value of ONNX type " + std::to_string(kind) + ", which ortbind cannot return");
  }
}

}  // namespace ortbind
