// PrepackedWeights: ONNX Runtime's container of prepacked weights, shared by sessions.
#include "loading.hpp"

namespace ortbind {

PrepackedWeights::PrepackedWeights() { check(api().CreatePrepackedWeightsContainer(&container_)); }

// Runs only once no session holds a share (each holds one for its lifetime).
PrepackedWeights::~PrepackedWeights() { api().ReleasePrepackedWeightsContainer(container_); }

void bind_prepacked(py::module_& m) {
  py::class_<PrepackedWeights, std::shared_ptr<PrepackedWeights>>(m, "PrepackedWeights", R"doc(PrepackedWeights()
--

A container in which ONNX Runtime keeps the prepacked forms of shared initializers (those given as
``Session(initializers=...)``), so that sessions made with the same container and the same arrays
share one prepacked copy. Pass it as ``Session(..., prepacked_weights=container)``; each session
holds it for its lifetime.
)doc")
      .def(py::init<>(), "__init__(self)\n--\n\nAn empty container.");
}

}  // namespace ortbind
