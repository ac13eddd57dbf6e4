// What a session may load beside its model, and what it must keep for its lifetime: prepacked
// weights shared by sessions, initializers from the caller's arrays, external data from memory,
// custom operator libraries, LoRA adapters. One file each:
//   prepacked.cpp        PrepackedWeights, the container ONNX Runtime shares prepacked weights in
//   adapters.cpp         LoraAdapter, activated per run through the run's options
//   custom_ops.cpp       custom operator libraries (RegisterCustomOpsLibrary_V2)
//   initializers.cpp     initializers from the caller's arrays, external data from memory
#pragma once
#include "common.hpp"

#include "values/value.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ortbind {

// OrtPrepackedWeightsContainer, shared (std::shared_ptr) by every session made with it: ONNX
// Runtime requires it to outlive them, so each session holds a share.
class PrepackedWeights {
 public:
  PrepackedWeights();
  ~PrepackedWeights();
  PrepackedWeights(const PrepackedWeights&) = delete;
  PrepackedWeights& operator=(const PrepackedWeights&) = delete;
  OrtPrepackedWeightsContainer* get() const { return container_; }

 private:
  OrtPrepackedWeightsContainer* container_ = nullptr;
};

// One OrtLoraAdapter, shared by Python and by each run that activates it (a run holds a share
// until Run returns, so dropping the Python object mid-run is safe).
class LoraAdapter {
 public:
  explicit LoraAdapter(py::handle source);
  const OrtLoraAdapter* get() const { return adapter_; }

 private:
  Ort::LoraAdapter adapter_{nullptr};
};

// The caller's arrays given as initializers, and the OrtValues over their buffers: ONNX Runtime
// reads those buffers (AddInitializer copies nothing) for the session's whole life, so the session
// holds this until after its OrtSession is released. Destroyed with the GIL held (it owns
// Python references), as the Session is.
struct InitializerArrays {
  std::vector<std::string> names;
  std::vector<py::object> arrays;
  std::vector<OwnedValue> values;
};

// Buffers pinned (PyObject_GetBuffer) while ONNX Runtime reads them at session creation, released
// with the GIL held: external data given from memory, which ONNX Runtime copies.
class PinnedBuffers {
 public:
  PinnedBuffers() = default;
  ~PinnedBuffers();
  PinnedBuffers(const PinnedBuffers&) = delete;
  PinnedBuffers& operator=(const PinnedBuffers&) = delete;
  const Py_buffer& pin(py::handle object, const std::string& what);

 private:
  std::vector<std::unique_ptr<Py_buffer>> views_;
};

// custom_ops.cpp: registers each library's operators into the options; ONNX Runtime keeps a
// library loaded until the last session that uses it is released.
void register_custom_op_libraries(Ort::SessionOptions& options, const std::vector<std::string>& paths);

// initializers.cpp
// `initializers`: None or a mapping of initializer name to numpy array.
std::shared_ptr<InitializerArrays> add_initializers(Ort::SessionOptions& options, py::handle initializers);
// `external_data`: None or a mapping of external data file name (as the model names it) to bytes-like.
void add_external_data(Ort::SessionOptions& options, py::handle external_data, PinnedBuffers& pinned);

// adapters.cpp: run(adapters=...) as the adapters' shares, held by the run until it is over.
std::vector<std::shared_ptr<LoraAdapter>> parse_adapters(py::handle adapters);

}  // namespace ortbind
