#include "output_pool.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

namespace ortbind {

// Capsules out in Python point into a generation, so it lives until the last of them is released,
// past the pool and the session if need be; once retired (its shapes the least recently used of
// more than kShapes sets, the pool turned off or gone) whatever comes back is freed.
struct OutputPool::Generation {
  struct Slot {
    Generation* generation = nullptr;
    bool eligible = false;
    size_t count = 0;
    OrtValue* kept[kDepth] = {};
  };

  explicit Generation(const std::vector<char>& eligible) : n_slots(eligible.size()), slots(new Slot[eligible.size()]) {
    for (size_t k = 0; k < n_slots; ++k) {
      slots[k].generation = this;
      slots[k].eligible = eligible[k] != 0;
    }
  }

  void retire() {
    live = false;
    for (size_t k = 0; k < n_slots; ++k) {
      Slot& slot = slots[k];
      for (size_t i = 0; i < slot.count; ++i) api().ReleaseValue(slot.kept[i]);
      slot.count = 0;
    }
  }
  void unref() {
    if (--refs == 0) delete this;
  }

  size_t n_slots;
  std::unique_ptr<Slot[]> slots;  // never reallocated: capsules hold pointers to its elements
  size_t refs = 1;                // the pool's until it is retired, and one per lease and capsule out
  bool live = true;
};

namespace {

constexpr const char* kCapsuleName = "ortbind.OrtValue";

void give_back(PyObject* capsule) {
  auto* value = static_cast<OrtValue*>(PyCapsule_GetPointer(capsule, kCapsuleName));
  auto* slot = static_cast<OutputPool::Generation::Slot*>(PyCapsule_GetContext(capsule));
  OutputPool::Generation* generation = slot->generation;
  if (generation->live && slot->count < OutputPool::kDepth)
    slot->kept[slot->count++] = value;
  else
    api().ReleaseValue(value);
  generation->unref();
}

}  // namespace

bool output_shape_refused(OrtStatus* status) {
  const char* message = api().GetErrorMessage(status);
  return std::strstr(message, "but the computed output shape for this run is") != nullptr ||
         std::strstr(message, "OrtValue shape verification failed") != nullptr ||
         // InferenceSession::ValidateOutputs, before the run: a buffer against the declared shape.
         std::strstr(message, "invalid dimensions for output") != nullptr ||
         std::strstr(message, "Invalid rank for output") != nullptr;
}

QuietRun::QuietRun(OrtRunOptions* options, OrtLoggingLevel env_level)
    : options_(env_level >= ORT_LOGGING_LEVEL_WARNING ? options : nullptr) {
  if (options_ == nullptr) return;
  check(api().RunOptionsGetRunLogSeverityLevel(options_, &severity_));
  check(api().RunOptionsSetRunLogSeverityLevel(options_, ORT_LOGGING_LEVEL_FATAL));
}

QuietRun::~QuietRun() {
  if (options_ != nullptr) discard(api().RunOptionsSetRunLogSeverityLevel(options_, severity_));
}

OutputPool::Lease::~Lease() {
  if (generation_ != nullptr) generation_->unref();
}

OrtValue* OutputPool::Lease::take(size_t output) {
  Generation::Slot& slot = generation_->slots[output];
  if (!generation_->live || slot.count == 0) return nullptr;
  return std::exchange(slot.kept[--slot.count], nullptr);
}

bool OutputPool::Lease::keeps(size_t output, const int64_t* dims, size_t ndim, size_t bytes) const {
  if (generation_ == nullptr || !generation_->live || !generation_->slots[output].eligible || bytes > kMaxBytes)
    return false;
  // ONNX Runtime's check (InferenceSession::ValidateOutputs): the declared rank, and each fixed
  // dim. A declaration without dims may be an unknown rank or a scalar; only a scalar is safe.
  const std::vector<int64_t>& declared = pool_->declared_[output];
  if (declared.size() != ndim) return false;
  for (size_t i = 0; i < ndim; ++i)
    if (declared[i] >= 0 && declared[i] != dims[i]) return false;
  return true;
}

PyObject* OutputPool::Lease::owner(OrtValue* value, size_t output) {
  PyObject* capsule = PyCapsule_New(value, kCapsuleName, give_back);
  if (capsule == nullptr) return nullptr;
  if (PyCapsule_SetContext(capsule, &generation_->slots[output]) != 0) {
    // Freed without its destructor reaching the value: the caller still owns it.
    PyCapsule_SetDestructor(capsule, nullptr);
    Py_DECREF(capsule);
    return nullptr;
  }
  ++generation_->refs;
  return capsule;
}

OutputPool::OutputPool(std::vector<char> eligible, std::vector<std::vector<int64_t>> declared)
    : eligible_(std::move(eligible)), declared_(std::move(declared)) {}

OutputPool::~OutputPool() { disable(); }

void OutputPool::retire(Generation* generation) {
  generation->retire();
  generation->unref();
}

void OutputPool::disable() {
  enabled_ = false;
  for (auto& shapes : recent_) retire(shapes.generation);
  recent_.clear();
}

OutputPool::Key& OutputPool::scratch_key() {
  thread_local Key key;
  key.values_.clear();
  return key;
}

void OutputPool::lease(Lease& lease, const Key& shapes) {
  if (!enabled_) return;
  const std::vector<int64_t>& key = shapes.values_;
  auto found = std::find_if(recent_.begin(), recent_.end(), [&](const Shapes& known) { return known.key == key; });
  if (found == recent_.end()) {
    if (recent_.size() == kShapes) {
      retire(recent_.back().generation);
      recent_.pop_back();
    }
    recent_.insert(recent_.begin(), Shapes{key, new Generation(eligible_)});
  } else if (found != recent_.begin()) {
    std::rotate(recent_.begin(), found, found + 1);
  }
  Generation* generation = recent_.front().generation;
  ++generation->refs;
  lease.pool_ = this;
  lease.generation_ = generation;
}

}  // namespace ortbind
