// Always the first include of every ortbind translation unit: one place decides how ONNX Runtime,
// pybind11 and numpy's C API are brought in, so no file can see them configured differently.
#pragma once

// The C++ API is used over a runtime that is dlopen'ed at import (loader.cpp), so its global API
// pointer must be set by us (Ort::InitApi) rather than by a static initializer that would need
// OrtGetApiBase at link time.
#ifndef ORT_API_MANUAL_INIT
#define ORT_API_MANUAL_INIT
#endif
#include <onnxruntime_cxx_api.h>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

// numpy's C API is one table per extension: module.cpp imports it, every other file refers to it.
#define PY_ARRAY_UNIQUE_SYMBOL ortbind_ARRAY_API
#ifndef ORTBIND_IMPORT_NUMPY
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace py = pybind11;

namespace ortbind {

// The C API table of the loaded runtime; valid once loader.cpp has run (module import).
const OrtApi& api();

// An error reported by ONNX Runtime through an OrtStatus; translated to the ortbind exception
// class for its code (errors.cpp).
class OrtError : public std::runtime_error {
 public:
  OrtError(OrtErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  OrtErrorCode code() const { return code_; }

 private:
  OrtErrorCode code_;
};

// The one door from an OrtStatus to an exception: releases the status and throws OrtError when
// it is not OK. Every C API call of ortbind goes through it (the C++ API's Ort::Exception is
// translated by the same code, see errors.cpp).
inline void check(OrtStatus* status) {
  if (status == nullptr) return;
  const OrtErrorCode code = api().GetErrorCode(status);
  std::string message = api().GetErrorMessage(status);
  api().ReleaseStatus(status);
  throw OrtError(code, message);
}

// For the few calls made where no exception may leave (a signal handler, the timer thread, a
// destructor) and whose status carries nothing to act on: the status is released unread.
inline void discard(OrtStatus* status) noexcept {
  if (status != nullptr) api().ReleaseStatus(status);
}

// Errors that ortbind itself finds before ONNX Runtime sees the data. Each kind maps to one Python
// class of the hierarchy, which also derives from the builtin named in the comment.
enum class Problem {
  Shape,      // ShapeError: ValueError
  DType,      // DTypeError: TypeError
  Kind,       // KindError: TypeError (a sequence where a tensor is expected, None, ...)
  Name,       // NameMismatchError: KeyError
  Value,      // InvalidValueError: ValueError
  Closed,     // ClosedError: ValueError
  Cancelled,  // Cancelled
  Timeout,    // RunTimeout: Cancelled, TimeoutError
  Env,        // EnvError: RuntimeError
};

class ValidationError : public std::runtime_error {
 public:
  ValidationError(Problem problem, const std::string& message) : std::runtime_error(message), problem_(problem) {}
  Problem problem() const { return problem_; }

 private:
  Problem problem_;
};

[[noreturn]] inline void fail(Problem problem, const std::string& message) { throw ValidationError(problem, message); }

// Text from a model (names, metadata) as a Python str. Models are not bound to hold UTF-8: bytes
// that are not survive as surrogates, so a name read here and passed back matches.
inline py::str model_text(const std::string& text) {
  PyObject* str = PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "surrogateescape");
  if (str == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(str);
}

// The inverse of model_text: a Python str back to the model's bytes.
inline std::string text_bytes(py::handle str) {
  py::object bytes =
      py::reinterpret_steal<py::object>(PyUnicode_AsEncodedString(str.ptr(), "utf-8", "surrogateescape"));
  if (!bytes) throw py::error_already_set();
  return std::string(PyBytes_AS_STRING(bytes.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(bytes.ptr())));
}

// A message for an exception: never fails to decode, whatever bytes a model or path put in it.
inline py::str message_text(const char* text) {
  PyObject* str = PyUnicode_DecodeUTF8(text, static_cast<Py_ssize_t>(std::strlen(text)), "replace");
  if (str == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(str);
}

// Python's repr of a name, for messages: input 'x'.
inline std::string quoted(const std::string& name) { return "'" + name + "'"; }

// The C++ object behind a Python instance of a bound class T. pybind11 constructs it in __init__,
// so an instance made with __new__ alone has none: every use of such an instance (and of an object
// of another type) is refused here rather than reading memory that was never a T. `what` names the
// expected class in the message.
template <typename T>
py::detail::value_and_holder native_holder(py::handle object, const char* what) {
  if (!py::isinstance<T>(object))
    fail(Problem::Kind, std::string("expected ") + what + ", not " + Py_TYPE(object.ptr())->tp_name);
  auto* instance = reinterpret_cast<py::detail::instance*>(object.ptr());
  auto holder = instance->get_value_and_holder(py::detail::get_type_info(typeid(T)));
  if (!holder || !holder.holder_constructed() || holder.value_ptr() == nullptr)
    fail(Problem::Kind, std::string("this ") + what + " was never made: its __init__ did not run");
  return holder;
}

template <typename T>
T& native(py::handle object, const char* what) {
  return *static_cast<T*>(native_holder<T>(object, what).value_ptr());
}

// For classes held by std::shared_ptr: a share of the object, for a caller that keeps it beyond the
// Python call (a run keeps its contract and token while the GIL is released).
template <typename T>
std::shared_ptr<T> native_shared(py::handle object, const char* what) {
  return native_holder<T>(object, what).template holder<std::shared_ptr<T>>();
}

}  // namespace ortbind
