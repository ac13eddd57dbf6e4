// Values between numpy and ONNX Runtime: numpy arrays (and Python scalars, lists, dicts) become
// OrtValues over the same buffers (to_ort.cpp), and OrtValues become numpy arrays whose base owns
// them (to_numpy.cpp).
#pragma once
#include "common.hpp"

#include "values/dlpack.hpp"
#include "values/output_pool.hpp"
#include "values/value_type.hpp"

#include <pybind11/gil_safe_call_once.h>

#include <memory>
#include <string>
#include <vector>

namespace ortbind {

// The name of the capsules that own an OrtValue as the base of a numpy array.
inline constexpr const char* kOrtValueCapsule = "ortbind.OrtValue";

struct ValueDeleter {
  void operator()(OrtValue* value) const { api().ReleaseValue(value); }
};
using OwnedValue = std::unique_ptr<OrtValue, ValueDeleter>;

// The Python objects whose buffers one run's OrtValues view, held until the run is over. A few
// live inline: the hot path should not allocate to hold them.
class KeepAlive {
 public:
  KeepAlive() = default;
  KeepAlive(const KeepAlive&) = delete;
  KeepAlive& operator=(const KeepAlive&) = delete;
  ~KeepAlive() {
    for (size_t i = 0; i < size_ && i < kInline; ++i) Py_DECREF(inline_[i]);
  }
  void add(py::object object) {
    if (size_ < kInline)
      inline_[size_] = object.release().ptr();
    else
      spilled_.push_back(std::move(object));
    ++size_;
  }

 private:
  static constexpr size_t kInline = 8;
  PyObject* inline_[kInline];
  size_t size_ = 0;
  std::vector<py::object> spilled_;
};

// "input 'x'": how messages name a value.
inline std::string label(const char* role, const std::string& name) { return std::string(role) + " " + quoted(name); }

// ortbind._convert, the Python half of conversions off the zero-copy path, imported once and kept
// for the life of the process. pybind11's once-helper releases the GIL while another thread
// imports, so a waiting thread never holds what the importing one needs.
inline py::handle convert_module() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  return storage.call_once_and_store_result([] { return py::module_::import("ortbind._convert"); }).get_stored();
}

// ONNX Runtime's default CPU allocator, for values ortbind fills itself (strings, packed types).
OrtAllocator* default_allocator();

// The CPU memory description every wrapped numpy buffer is given with; made once.
const OrtMemoryInfo* cpu_memory();

// An array that can be handed to ONNX Runtime as it is for a tensor of `element`: the same array
// when it is C-contiguous, aligned, in native byte order and of exactly that element type (the
// zero-copy case); a contiguous copy when only the layout differs. Anything else (another element
// type, a non-array) goes through ortbind._convert, which converts Python scalars and lists to the
// declared type and refuses any conversion that would change a number.
// `role` and `name` name the value in messages ("input 'x'").
py::object input_array(py::handle obj, ONNXTensorElementDataType element, const char* role, const std::string& name);

// For an input that is not a numpy array: the numpy array over its buffer when it has __dlpack__
// (array_from_dlpack, dlpack.hpp), held by `keep` for the run, else `value` itself. Out of line, so
// that a caller's path for numpy arrays stays one type test.
PyObject* array_or_dlpack_view(PyObject* value, ONNXTensorElementDataType element, const std::string& input_name,
                               KeepAlive& keep);

// A numpy array ONNX Runtime will use in place (a preallocated output, an input bound once):
// exactly of `element`, C-contiguous, aligned and native-endian, or a clear error. `what` names the
// argument ("out['z']"), `value_name` the model's value ("output 'z'"), `why` ends the layout message.
PyArrayObject* array_in_place(PyObject* value, ONNXTensorElementDataType element, const std::string& what,
                              const std::string& value_name, const char* why);

// A tensor OrtValue over the array's own buffer (strings are copied: ONNX Runtime stores them as
// std::string). The array must outlive the value; the caller keeps it.
OrtValue* tensor_over_array(PyArrayObject* array, ONNXTensorElementDataType element);

// Any ONNX value from Python (tensor, sequence, map, optional) for a declared type; arrays whose
// buffers the result views are appended to `keep`. A tensor may also be another framework's, with
// __dlpack__: it is taken as the numpy array over its buffer (array_from_dlpack, dlpack.hpp).
OrtValue* value_from_python(py::handle obj, const ValueType& type, const char* role, const std::string& name,
                            KeepAlive& keep);

// An empty sequence of the declared type. The C API makes a sequence only from at least one
// element (CreateValue), so it is the output of a tiny SequenceEmpty model, one per element type,
// run on the spot (empty_sequence.cpp). `what` names the value in messages.
OrtValue* empty_sequence(const ValueType& type, const std::string& what);

// The Python form of an output, taking ownership of it: a tensor becomes a numpy array over the
// OrtValue's buffer, whose base (a capsule) owns the OrtValue; strings become a numpy str array;
// sequences lists, maps dicts, an absent optional None.
py::object value_to_python(OwnedValue value, const char* role, const std::string& name);

// value_to_python for a value known to be a tensor (a model's declared tensor output): two runtime
// calls fewer per output. With an active `pool`, the array's buffer goes back to it, for output
// `output`, once the array and its views are gone (output_pool.hpp).
py::object tensor_to_python(OwnedValue value, const char* role, const std::string& name,
                            OutputPool::Lease* pool = nullptr, size_t output = 0);

}  // namespace ortbind
