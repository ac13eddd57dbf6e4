// What a session reads from the caller's memory while it is made: initializers from arrays (read in
// place for the session's life) and external data files given as bytes (copied while the session is
// made).
#include "session/extras.hpp"

#include "values/element_types.hpp"

namespace ortbind {

std::shared_ptr<InitializerArrays> add_initializers(Ort::SessionOptions& options, py::handle initializers) {
  if (initializers.is_none()) return nullptr;
  if (!py::hasattr(initializers, "items"))
    fail(Problem::Kind, std::string("initializers must be a mapping of initializer name to numpy array, not ") +
                            Py_TYPE(initializers.ptr())->tp_name);
  auto held = std::make_shared<InitializerArrays>();
  for (auto pair : initializers.attr("items")()) {
    auto kv = pair.cast<py::tuple>();
    if (!py::isinstance<py::str>(kv[0]))
      fail(Problem::Kind, "initializer names must be str, not " + py::repr(kv[0]).cast<std::string>());
    const std::string name = text_bytes(kv[0]);
    py::handle value = kv[1];
    if (!PyArray_Check(value.ptr()))
      fail(Problem::Kind,
           "initializer " + quoted(name) + " must be a numpy array, not " + Py_TYPE(value.ptr())->tp_name);
    auto* given = reinterpret_cast<PyArrayObject*>(value.ptr());
    ONNXTensorElementDataType element = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
    // Numeric element types whose numpy layout is ONNX Runtime's (not strings, not packed 4-bit).
    for (int code = 1; code <= 20 && element == ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED; ++code) {
      const auto candidate = static_cast<ONNXTensorElementDataType>(code);
      if (candidate != ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING && dtype_matches(PyArray_DESCR(given), candidate))
        element = candidate;
    }
    if (element == ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED)
      fail(Problem::DType, "initializer " + quoted(name) + " has dtype " + dtype_name(PyArray_DESCR(given)) +
                               ", which is not a numeric ONNX element type");
    // ONNX Runtime reads the buffer in place for the session's life: a contiguous, aligned, native
    // array is used as it is (shared with the caller); any other layout is copied once, here.
    py::object array = py::reinterpret_borrow<py::object>(value);
    if (!PyArray_CHKFLAGS(given, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED) || !PyArray_ISNOTSWAPPED(given)) {
      PyArray_Descr* native = numpy_descr(element, "initializer " + quoted(name));
      Py_INCREF(native);
      PyObject* copy = PyArray_FromArray(given, native, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_ENSURECOPY);
      if (copy == nullptr) throw py::error_already_set();
      array = py::reinterpret_steal<py::object>(copy);
    }
    held->values.emplace_back(tensor_over_array(reinterpret_cast<PyArrayObject*>(array.ptr()), element));
    held->arrays.push_back(std::move(array));
    held->names.push_back(name);
  }
  for (size_t i = 0; i < held->names.size(); ++i)
    check(api().AddInitializer(options, held->names[i].c_str(), held->values[i].get()));
  return held;
}

const Py_buffer& PinnedBuffers::pin(py::handle object, const std::string& what) {
  if (!PyObject_CheckBuffer(object.ptr()))
    fail(Problem::Kind, what + " must be bytes-like, not " + Py_TYPE(object.ptr())->tp_name);
  auto view = std::make_unique<Py_buffer>();
  if (PyObject_GetBuffer(object.ptr(), view.get(), PyBUF_CONTIG_RO) != 0) throw py::error_already_set();
  views_.push_back(std::move(view));
  return *views_.back();
}

PinnedBuffers::~PinnedBuffers() {
  for (auto& view : views_) PyBuffer_Release(view.get());
}

void add_external_data(Ort::SessionOptions& options, py::handle external_data, PinnedBuffers& pinned) {
  if (external_data.is_none()) return;
  if (!py::hasattr(external_data, "items"))
    fail(Problem::Kind, std::string("external_data must be a mapping of file name to bytes-like, not ") +
                            Py_TYPE(external_data.ptr())->tp_name);
  std::vector<std::string> names;
  std::vector<char*> buffers;
  std::vector<size_t> lengths;
  for (auto pair : external_data.attr("items")()) {
    auto kv = pair.cast<py::tuple>();
    if (!py::isinstance<py::str>(kv[0]))
      fail(Problem::Kind, "external data file names must be str, not " + py::repr(kv[0]).cast<std::string>());
    names.push_back(kv[0].cast<std::string>());
    // ONNX Runtime copies the tensors out of these buffers while the session is made; the
    // buffers stay pinned until then and are never written (the C API's char* is not const).
    const Py_buffer& view = pinned.pin(kv[1], "external_data[" + quoted(names.back()) + "]");
    buffers.push_back(static_cast<char*>(view.buf));
    lengths.push_back(static_cast<size_t>(view.len));
  }
  std::vector<const char*> name_ptrs;
  for (const auto& name : names) name_ptrs.push_back(name.c_str());
  if (!names.empty())
    check(api().AddExternalInitializersFromFilesInMemory(options, name_ptrs.data(), buffers.data(), lengths.data(),
                                                         names.size()));
}

}  // namespace ortbind
