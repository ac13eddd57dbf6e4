#include "value.hpp"

#include <array>
#include <cstring>

namespace ortbind {
namespace {

constexpr const char* kCapsuleName = "ortbind.OrtValue";

void release_capsule(PyObject* capsule) {
  api().ReleaseValue(static_cast<OrtValue*>(PyCapsule_GetPointer(capsule, kCapsuleName)));
}

std::string label(const char* role, const std::string& name) { return std::string(role) + " " + quoted(name); }

py::object convert_module() {
  static py::object* convert = new py::object(py::module_::import("ortbind._convert"));
  return *convert;
}

OrtAllocator* default_allocator() {
  OrtAllocator* allocator = nullptr;
  check(api().GetAllocatorWithDefaultOptions(&allocator));
  return allocator;
}

using Shape = std::array<int64_t, NPY_MAXDIMS>;

OrtValue* string_tensor(PyArrayObject* array, const Shape& shape, int ndim) {
  // A str or object array, validated by ortbind._convert to hold only str. The list owns the str
  // objects whose UTF-8 buffers `pointers` borrows until FillStringTensor has copied them.
  py::object flat = py::reinterpret_steal<py::object>(PyArray_Ravel(array, NPY_CORDER));
  if (!flat) throw py::error_already_set();
  py::object listed = py::reinterpret_steal<py::object>(PyArray_ToList(reinterpret_cast<PyArrayObject*>(flat.ptr())));
  if (!listed) throw py::error_already_set();
  py::list items = py::reinterpret_borrow<py::list>(listed);
  std::vector<const char*> pointers;
  pointers.reserve(items.size());
  for (py::handle item : items) {
    Py_ssize_t size = 0;
    const char* text = PyUnicode_AsUTF8AndSize(item.ptr(), &size);
    if (text == nullptr) throw py::error_already_set();
    // ONNX Runtime reads these as C strings: an embedded NUL would cut the string silently.
    if (std::strlen(text) != static_cast<size_t>(size))
      fail(Problem::Value, "a string holds a NUL character, which ONNX Runtime cannot take");
    pointers.push_back(text);
  }
  OrtValue* value = nullptr;
  check(api().CreateTensorAsOrtValue(default_allocator(), shape.data(), static_cast<size_t>(ndim),
                                     ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING, &value));
  OwnedValue owned(value);
  check(api().FillStringTensor(value, pointers.data(), pointers.size()));
  return owned.release();
}

OrtValue* packed_tensor(PyArrayObject* array, const Shape& shape, int ndim, ONNXTensorElementDataType element) {
  // ONNX Runtime wants 8 / bits elements a byte, the first in the lowest bits; ml_dtypes keeps each
  // element's bits in the lowest bits of its own byte (input_array made the array contiguous).
  OrtValue* value = nullptr;
  check(api().CreateTensorAsOrtValue(default_allocator(), shape.data(), static_cast<size_t>(ndim), element, &value));
  OwnedValue owned(value);
  void* data = nullptr;
  check(api().GetTensorMutableData(value, &data));
  const int bits = packed_bits(element);
  const npy_intp per_byte = 8 / bits;
  const unsigned mask = (1u << bits) - 1;
  const auto* in = static_cast<const uint8_t*>(PyArray_DATA(array));
  auto* packed = static_cast<uint8_t*>(data);
  const npy_intp count = PyArray_SIZE(array);
  if (count > 0)
    std::memset(packed, 0, static_cast<size_t>((count + per_byte - 1) / per_byte));  // data may be null when empty
  for (npy_intp i = 0; i < count; ++i)
    packed[i / per_byte] = static_cast<uint8_t>(packed[i / per_byte] | ((in[i] & mask) << (bits * (i % per_byte))));
  return owned.release();
}

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
  if (const int bits = packed_bits(element)) {
    // No view can unpack sub-byte elements: a copy, one byte per element, its lowest bits holding it.
    PyObject* unpacked = PyArray_Empty(static_cast<int>(ndim), shape.data(), descr, 0);
    if (unpacked == nullptr) throw py::error_already_set();
    auto* out = static_cast<uint8_t*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(unpacked)));
    const auto* packed = static_cast<const uint8_t*>(data);
    const npy_intp per_byte = 8 / bits;
    const unsigned mask = (1u << bits) - 1;
    for (npy_intp i = 0; i < count; ++i)
      out[i] = static_cast<uint8_t>((packed[i / per_byte] >> (bits * (i % per_byte))) & mask);
    return py::reinterpret_steal<py::object>(unpacked);
  }
  if (count == 0 || data == nullptr) {
    // No buffer to share; numpy makes its own empty one.
    PyObject* empty = PyArray_Empty(static_cast<int>(ndim), shape.data(), descr, 0);
    if (empty == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(empty);
  }
  PyObject* array = PyArray_NewFromDescr(&PyArray_Type, descr, static_cast<int>(ndim), shape.data(), nullptr, data,
                                         NPY_ARRAY_CARRAY, nullptr);
  if (array == nullptr) throw py::error_already_set();
  py::object result = py::reinterpret_steal<py::object>(array);
  // The array's base owns the OrtValue, so the buffer lives exactly as long as any view of it (and
  // then goes back to the pool, or is freed); ONNX Runtime's tensor holds its allocator, so this
  // outlives the session and the environment.
  const bool recycled =
      pool != nullptr && pool->keeps(output, dims.data(), ndim,
                                     static_cast<size_t>(PyArray_NBYTES(reinterpret_cast<PyArrayObject*>(array))));
  PyObject* capsule =
      recycled ? pool->owner(value.get(), output) : PyCapsule_New(value.get(), kCapsuleName, release_capsule);
  if (capsule == nullptr) throw py::error_already_set();
  value.release();
  if (PyArray_SetBaseObject(reinterpret_cast<PyArrayObject*>(array), capsule) != 0)  // steals capsule
    throw py::error_already_set();
  return result;
}

const OrtMemoryInfo* cpu_memory() {
  // Made once, never released: every wrapped input in every thread refers to it.
  static const OrtMemoryInfo* info = [] {
    OrtMemoryInfo* created = nullptr;
    check(api().CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &created));
    return created;
  }();
  return info;
}

py::object input_array(py::handle obj, ONNXTensorElementDataType element, const char* role, const std::string& name) {
  if (PyArray_Check(obj.ptr()) && element != ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING) {
    auto* array = reinterpret_cast<PyArrayObject*>(obj.ptr());
    PyArray_Descr* descr = PyArray_DESCR(array);
    if (dtype_matches(descr, element)) {
      constexpr int wanted = NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED;
      if (PyArray_CHKFLAGS(array, wanted) && PyArray_ISNOTSWAPPED(array))
        return py::reinterpret_borrow<py::object>(obj);
      // Same elements, other layout (strided, Fortran order, unaligned, byte-swapped): one
      // contiguous native copy, the documented cost of such an input.
      PyArray_Descr* native = numpy_descr(element, label(role, name));
      Py_INCREF(native);
      PyObject* copy = PyArray_FromArray(array, native, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_ENSURECOPY);
      if (copy == nullptr) throw py::error_already_set();
      return py::reinterpret_steal<py::object>(copy);
    }
  }
  // Not the zero-copy case: ortbind._convert checks and converts, or raises with the names. An
  // element type numpy cannot hold is refused here first (DTypeError naming the input).
  if (element != ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING) numpy_descr(element, label(role, name));
  return convert_module().attr("to_array")(obj, element_name(element), label(role, name));
}

PyArrayObject* array_in_place(PyObject* value, ONNXTensorElementDataType element, const std::string& what,
                              const std::string& value_name, const char* why) {
  if (!PyArray_Check(value)) fail(Problem::Kind, what + " must be a numpy array, not " + Py_TYPE(value)->tp_name);
  auto* arr = reinterpret_cast<PyArrayObject*>(value);
  if (!dtype_matches(PyArray_DESCR(arr), element))
    fail(Problem::DType, what + " has dtype " + dtype_name(PyArray_DESCR(arr)) + ", but " + value_name + " is " +
                             element_name(element));
  if (!PyArray_CHKFLAGS(arr, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED) || !PyArray_ISNOTSWAPPED(arr))
    fail(Problem::Value, what + " must be C-contiguous, aligned and in native byte order: " + why);
  return arr;
}

OrtValue* tensor_over_array(PyArrayObject* array, ONNXTensorElementDataType element) {
  const int ndim = PyArray_NDIM(array);
  Shape shape;
  const npy_intp* dims = PyArray_DIMS(array);
  for (int i = 0; i < ndim; ++i) shape[static_cast<size_t>(i)] = dims[i];
  if (element == ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING) return string_tensor(array, shape, ndim);
  if (packed_bits(element) != 0) return packed_tensor(array, shape, ndim, element);
  OrtValue* value = nullptr;
  check(api().CreateTensorWithDataAsOrtValue(cpu_memory(), PyArray_DATA(array),
                                             static_cast<size_t>(PyArray_NBYTES(array)), shape.data(),
                                             static_cast<size_t>(ndim), element, &value));
  return value;
}

OrtValue* value_from_python(py::handle obj, const ValueType& type, const char* role, const std::string& name,
                            KeepAlive& keep) {
  switch (type.kind) {
    case ONNX_TYPE_TENSOR: {
      if (obj.is_none())
        fail(Problem::Kind, label(role, name) + " is a tensor(" + element_name(type.element) + "), not None");
      py::object array = input_array(obj, type.element, role, name);
      OrtValue* value = tensor_over_array(reinterpret_cast<PyArrayObject*>(array.ptr()), type.element);
      keep.add(std::move(array));
      return value;
    }
    case ONNX_TYPE_SEQUENCE: {
      if (!PyList_Check(obj.ptr()) && !PyTuple_Check(obj.ptr()))
        fail(Problem::Kind, label(role, name) + " is a " + type.describe() + ", given as a list of values, not " +
                                std::string(Py_TYPE(obj.ptr())->tp_name));
      py::sequence items = py::reinterpret_borrow<py::sequence>(obj);
      if (items.size() == 0) return empty_sequence(type, label(role, name));
      std::vector<OwnedValue> owned;
      std::vector<OrtValue*> raw;
      for (size_t i = 0; i < items.size(); ++i) {
        const std::string item_name = name + "[" + std::to_string(i) + "]";
        owned.emplace_back(value_from_python(items[i], *type.contained, role, item_name, keep));
        raw.push_back(owned.back().get());
      }
      OrtValue* value = nullptr;
      check(api().CreateValue(raw.data(), raw.size(), ONNX_TYPE_SEQUENCE, &value));
      return value;
    }
    case ONNX_TYPE_MAP: {
      if (!PyDict_Check(obj.ptr()))
        fail(Problem::Kind, label(role, name) + " is a " + type.describe() + ", given as a dict, not " +
                                std::string(Py_TYPE(obj.ptr())->tp_name));
      if (type.contained->kind != ONNX_TYPE_TENSOR)
        fail(Problem::Kind, label(role, name) + " is a " + type.describe() + ", which ortbind cannot build");
      py::dict dict = py::reinterpret_borrow<py::dict>(obj);
      py::object keys = convert_module().attr("to_array")(py::list(dict.attr("keys")()), element_name(type.key),
                                                          label(role, name) + " keys");
      py::object values = convert_module().attr("to_array")(
          py::list(dict.attr("values")()), element_name(type.contained->element), label(role, name) + " values");
      OwnedValue key_value(tensor_over_array(reinterpret_cast<PyArrayObject*>(keys.ptr()), type.key));
      OwnedValue item_value(tensor_over_array(reinterpret_cast<PyArrayObject*>(values.ptr()), type.contained->element));
      keep.add(std::move(keys));
      keep.add(std::move(values));
      OrtValue* parts[2] = {key_value.get(), item_value.get()};
      OrtValue* value = nullptr;
      check(api().CreateValue(parts, 2, ONNX_TYPE_MAP, &value));
      return value;
    }
    case ONNX_TYPE_OPTIONAL:
      // An absent optional is an input left out of the feeds (see Session::run); a present one is
      // given as its contained value.
      return value_from_python(obj, *type.contained, role, name, keep);
    default:
      fail(Problem::Kind, label(role, name) + " is a " + type.describe() + ", which ortbind cannot build");
  }
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
