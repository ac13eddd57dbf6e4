// A model as the caller gives it: a path (str or os.PathLike) or bytes-like.
#pragma once
#include "common.hpp"

#include <optional>
#include <string>

namespace ortbind {

// The model: a path, or bytes-like. For bytes the buffer is held (and a bytearray cannot be resized)
// while ONNX Runtime parses it; ONNX Runtime copies what it needs, so the caller may change or drop
// the bytes once the session exists.
class ModelSource {
 public:
  explicit ModelSource(py::handle model) {
    if (py::isinstance<py::str>(model) || py::hasattr(model, "__fspath__")) {
      path_ = py::module_::import("os").attr("fsdecode")(model).cast<std::string>();
      // The runtime reads a C string: a NUL would silently load another file.
      if (path_->find('\0') != std::string::npos) fail(Problem::Value, "the model path holds a NUL character");
    } else if (PyObject_CheckBuffer(model.ptr())) {
      if (PyObject_GetBuffer(model.ptr(), &view_, PyBUF_CONTIG_RO) != 0) throw py::error_already_set();
      have_view_ = true;
    } else {
      fail(Problem::Kind, std::string("model must be a path (str or os.PathLike) or bytes-like, not ") +
                              Py_TYPE(model.ptr())->tp_name);
    }
  }
  // With the GIL held: the session constructor has taken it back by the time this runs.
  ~ModelSource() {
    if (have_view_) PyBuffer_Release(&view_);
  }
  ModelSource(const ModelSource&) = delete;
  ModelSource& operator=(const ModelSource&) = delete;

  // Needs no GIL: the buffer is pinned until destruction.
  const std::optional<std::string>& path() const { return path_; }
  const void* data() const { return view_.buf; }
  size_t size() const { return static_cast<size_t>(view_.len); }
  Ort::Session load(Ort::Env& env, const Ort::SessionOptions& options, OrtPrepackedWeightsContainer* prepacked) const {
    if (prepacked != nullptr) {
      if (path_) return Ort::Session(env, path_->c_str(), options, prepacked);
      return Ort::Session(env, view_.buf, static_cast<size_t>(view_.len), options, prepacked);
    }
    if (path_) return Ort::Session(env, path_->c_str(), options);
    return Ort::Session(env, view_.buf, static_cast<size_t>(view_.len), options);
  }

 private:
  std::optional<std::string> path_;
  Py_buffer view_{};
  bool have_view_ = false;
};

}  // namespace ortbind
