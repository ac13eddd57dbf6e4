#include "values/output_pool.hpp"

#include "values/value.hpp"

#include <algorithm>
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
    size_t count = 0;  // guarded by the generation's mutex, as `kept`
    OrtValue* kept[kDepth] = {};
  };

  explicit Generation(const std::vector<char>& eligible) : n_slots(eligible.size()), slots(new Slot[eligible.size()]) {
    for (size_t k = 0; k < n_slots; ++k) {
      slots[k].generation = this;
      slots[k].eligible = eligible[k] != 0;
    }
  }

  void retire() {
    std::vector<OrtValue*> freed;
    {
      std::lock_guard<std::mutex> lock(mutex);
      live.store(false, std::memory_order_release);
      for (size_t k = 0; k < n_slots; ++k) {
        Slot& slot = slots[k];
        freed.insert(freed.end(), slot.kept, slot.kept + slot.count);
        slot.count = 0;
      }
    }
    for (OrtValue* value : freed) api().ReleaseValue(value);
  }
  void unref() {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  const size_t n_slots;
  const std::unique_ptr<Slot[]> slots;  // never reallocated: capsules hold pointers to its elements
  std::mutex mutex;                     // guards every slot's kept values
  std::atomic<size_t> refs{1};          // the pool's until it is retired, and one per lease and capsule out
  std::atomic<bool> live{true};
};

namespace {

// A capsule's destructor: on whichever thread drops the array's last reference.
void give_back(PyObject* capsule) {
  auto* value = static_cast<OrtValue*>(PyCapsule_GetPointer(capsule, kOrtValueCapsule));
  auto* slot = static_cast<OutputPool::Generation::Slot*>(PyCapsule_GetContext(capsule));
  OutputPool::Generation* generation = slot->generation;
  bool kept = false;
  {
    std::lock_guard<std::mutex> lock(generation->mutex);
    if (generation->live.load(std::memory_order_relaxed) && slot->count < OutputPool::kDepth) {
      slot->kept[slot->count++] = value;
      kept = true;
    }
  }
  if (!kept) api().ReleaseValue(value);
  generation->unref();
}

}  // namespace

OutputPool::Lease::~Lease() {
  if (generation_ != nullptr) generation_->unref();
}

void OutputPool::Lease::hold(const OutputPool* pool, Generation* generation) {
  pool_ = pool;
  generation_ = generation;
}

OrtValue* OutputPool::Lease::take(size_t output) {
  if (generation_ == nullptr) return nullptr;  // nothing leased: the pool is off
  Generation::Slot& slot = generation_->slots[output];
  std::lock_guard<std::mutex> lock(generation_->mutex);
  if (!generation_->live.load(std::memory_order_relaxed) || slot.count == 0) return nullptr;
  return std::exchange(slot.kept[--slot.count], nullptr);
}

bool OutputPool::Lease::keeps(size_t output, const int64_t* dims, size_t ndim, size_t bytes) const {
  if (generation_ == nullptr || !generation_->live.load(std::memory_order_acquire) ||
      !generation_->slots[output].eligible || bytes > kMaxBytes)
    return false;
  return pool_->declares(output, dims, ndim);
}

PyObject* OutputPool::Lease::owner(OrtValue* value, size_t output) {
  PyObject* capsule = PyCapsule_New(value, kOrtValueCapsule, give_back);
  if (capsule == nullptr) return nullptr;
  if (PyCapsule_SetContext(capsule, &generation_->slots[output]) != 0) {
    // Freed without its destructor reaching the value: the caller still owns it.
    PyCapsule_SetDestructor(capsule, nullptr);
    Py_DECREF(capsule);
    return nullptr;
  }
  generation_->refs.fetch_add(1, std::memory_order_relaxed);
  return capsule;
}

OutputPool::OutputPool(std::vector<char> eligible, std::vector<std::vector<int64_t>> declared)
    : eligible_(std::move(eligible)), declared_(std::move(declared)) {}

OutputPool::~OutputPool() { disable(); }

// ONNX Runtime's check of a buffer passed in (InferenceSession::ValidateOutputs): the declared
// rank, and each fixed dim. A declaration without dims may be an unknown rank or a scalar; only a
// scalar is safe.
bool OutputPool::declares(size_t output, const int64_t* dims, size_t ndim) const {
  const std::vector<int64_t>& declared = declared_[output];
  if (declared.size() != ndim) return false;
  for (size_t i = 0; i < ndim; ++i)
    if (declared[i] >= 0 && declared[i] != dims[i]) return false;
  return true;
}

void OutputPool::disable() {
  std::vector<Shapes> retired;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    enabled_.store(false, std::memory_order_release);
    retired.swap(recent_);
  }
  for (auto& shapes : retired) {
    shapes.generation->retire();
    shapes.generation->unref();
  }
}

OutputPool::Key& OutputPool::scratch_key() {
  thread_local Key key;
  key.clear();
  return key;
}

void OutputPool::lease(Lease& lease, const Key& shapes) {
  Generation* dropped = nullptr;
  Generation* generation = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!enabled_.load(std::memory_order_relaxed)) return;
    const std::vector<int64_t>& key = shapes.values();
    auto found = std::find_if(recent_.begin(), recent_.end(), [&](const Shapes& known) { return known.key == key; });
    if (found == recent_.end()) {
      if (recent_.size() == kShapes) {
        dropped = recent_.back().generation;
        recent_.pop_back();
      }
      recent_.insert(recent_.begin(), Shapes{key, new Generation(eligible_)});
    } else if (found != recent_.begin()) {
      std::rotate(recent_.begin(), found, found + 1);
    }
    generation = recent_.front().generation;
    generation->refs.fetch_add(1, std::memory_order_relaxed);
  }
  lease.hold(this, generation);
  if (dropped != nullptr) {
    dropped->retire();
    dropped->unref();
  }
}

}  // namespace ortbind
