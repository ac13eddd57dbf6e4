#include "session/pipeline.hpp"

#include <cstring>

namespace ortbind {
namespace {

// Whether a failed run is ONNX Runtime refusing an output buffer passed in: of another shape than
// the one computed (OpKernelContext::OutputMLValue's wording, IExecutionFrame's in older releases),
// or than the one declared (InferenceSession::ValidateOutputs, before the run).
bool output_shape_refused(OrtStatus* status) {
  const char* message = api().GetErrorMessage(status);
  return std::strstr(message, "but the computed output shape for this run is") != nullptr ||
         std::strstr(message, "OrtValue shape verification failed") != nullptr ||
         std::strstr(message, "invalid dimensions for output") != nullptr ||
         std::strstr(message, "Invalid rank for output") != nullptr;
}

}  // namespace

QuietRun::QuietRun(OrtRunOptions* options, OrtLoggingLevel env_level)
    : options_(env_level >= ORT_LOGGING_LEVEL_WARNING ? options : nullptr) {
  if (options_ == nullptr) return;
  check(api().RunOptionsGetRunLogSeverityLevel(options_, &severity_));
  check(api().RunOptionsSetRunLogSeverityLevel(options_, ORT_LOGGING_LEVEL_FATAL));
}

QuietRun::~QuietRun() {
  if (options_ != nullptr) discard(api().RunOptionsSetRunLogSeverityLevel(options_, severity_));
}

void RunPipeline::feed(py::handle feeds, const std::vector<char>* prebound) {
  gather_inputs(session_.signature(), call_, feeds, prebound);
}

void RunPipeline::select_outputs() { ortbind::select_outputs(session_.signature(), call_, request_); }

void RunPipeline::lease_outputs(const std::vector<const std::vector<int64_t>*>* bound_dims) {
  OutputPool& pool = session_.pool();
  if (!call_.only_tensors || !pool.enabled()) return;
  OutputPool::Key& key = OutputPool::scratch_key();
  for (size_t i = 0; i < session_.signature().input_names.size(); ++i) {
    if (bound_dims != nullptr && (*bound_dims)[i] != nullptr)
      key.add((*bound_dims)[i]->data(), (*bound_dims)[i]->size());
    else if (PyArrayObject* arr = call_.input_arrays[i])
      key.add(PyArray_DIMS(arr), static_cast<size_t>(PyArray_NDIM(arr)));
    else
      key.absent();
  }
  pool.lease(call_.pool, key);
}

bool RunPipeline::pass_back(RunValues& into) {
  bool any = false;
  for (size_t k = 0; k < call_.selected.size(); ++k) {
    into[k] = call_.pool.take(call_.selected[k]);
    any = any || into[k] != nullptr;
  }
  return any;
}

bool RunPipeline::refused() const { return status_.failed() && output_shape_refused(status_.get()); }

void RunPipeline::raise_failure() {
  stop_->raise_if_stopped();
  check(status_.release());
}

}  // namespace ortbind
