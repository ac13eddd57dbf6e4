// PrepackedWeights: ONNX Runtime's container of prepacked weights, shared by sessions.
#include "session/extras.hpp"

namespace ortbind {

PrepackedWeights::PrepackedWeights() { check(api().CreatePrepackedWeightsContainer(&container_)); }

// Runs only once no session holds a share (each holds one for its lifetime).
PrepackedWeights::~PrepackedWeights() { api().ReleasePrepackedWeightsContainer(container_); }

}  // namespace ortbind
