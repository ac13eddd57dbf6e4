// What a session may be given beside its model, as Python sees it: PrepackedWeights and LoraAdapter.
#include "python/register.hpp"

#include "session/extras.hpp"

namespace ortbind {

void register_extras(py::module_& m) {
  py::class_<PrepackedWeights, std::shared_ptr<PrepackedWeights>>(m, "PrepackedWeights", R"doc(PrepackedWeights()
--

A container in which ONNX Runtime keeps the prepacked forms of shared initializers (those given as
``Session(initializers=...)``), so that sessions made with the same container and the same arrays
share one prepacked copy. Pass it as ``Session(..., prepacked_weights=container)``; each session
holds it for its lifetime.
)doc")
      .def(py::init<>(), "__init__(self)\n--\n\nAn empty container.");
  py::class_<LoraAdapter, std::shared_ptr<LoraAdapter>>(m, "LoraAdapter", R"doc(LoraAdapter(source)
--

A LoRA adapter in ONNX Runtime's adapter format, from a path or bytes-like (copied). Its parameters
replace the model's inputs or overridable initializers of the same names in the runs that activate
it: ``session.run(feeds, adapters=[adapter])``. One adapter may serve many sessions and runs at once.
)doc")
      .def(py::init<py::handle>(), py::arg("source"),
           "__init__(self, source)\n--\n\nLoads the adapter from a file path or from bytes.");
}

}  // namespace ortbind
