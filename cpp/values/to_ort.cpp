// numpy to OrtValue: an array of the declared element type in a usable layout is wrapped as it is
// (the zero-copy case), and so is another framework's tensor, read through DLPack (dlpack.cpp);
// strings and sub-byte types are copied into values ONNX Runtime owns; other Python values go
// through ortbind._convert, which converts only when no number changes.
#include "values/value.hpp"

#include "values/dlpack.hpp"
#include "values/element_types.hpp"

#include <array>
#include <cstring>

namespace ortbind {
namespace {

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

}  // namespace

OrtAllocator* default_allocator() {
  OrtAllocator* allocator = nullptr;
  check(api().GetAllocatorWithDefaultOptions(&allocator));
  return allocator;
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

PyObject* array_or_dlpack_view(PyObject* value, ONNXTensorElementDataType element, const std::string& input_name,
                               KeepAlive& keep) {
  py::object view = array_from_dlpack(value, element, "input", input_name);
  if (!view) return value;
  PyObject* array = view.ptr();
  keep.add(std::move(view));
  return array;
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
      // Another framework's tensor is taken as the numpy array over its buffer.
      py::object from_dlpack = array_from_dlpack(obj, type.element, role, name);
      py::object array = input_array(from_dlpack ? py::handle(from_dlpack) : obj, type.element, role, name);
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

}  // namespace ortbind
