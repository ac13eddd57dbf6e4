// Output buffers that a run hands back to ONNX Runtime once Python has let go of them.
//
// A run whose outputs ONNX Runtime allocates pays for a tensor per output (the arena, the Tensor
// and its OrtValue) and frees it again when the array dies; a run given an allocated OrtValue for
// an output writes into it instead, measured at half the cost of Run on 64 one-element outputs.
// So an output array's base, when its last view dies, gives its OrtValue back to the session's
// pool, and the next run with the same input shapes passes it to Run as that output. When ONNX
// Runtime refuses one (an output of data-dependent size), the run pipeline runs again without and
// turns the pool off (session/pipeline.cpp).
//
// Locks, not the GIL, guard it: runs touch it from any thread, and an array's last reference may
// drop on any thread (on a free-threaded interpreter, several at once). The pool's mutex guards its
// list of recent input shapes; each generation's mutex guards the values it keeps. No code holds
// both, and none calls into Python while holding either.
#pragma once
#include "common.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace ortbind {

class OutputPool {
 public:
  // Values kept per output and set of input shapes, for the last few sets (threads or a loop
  // alternating between batch sizes); larger buffers are freed as before (the arena keeps those
  // anyway, and their allocation is small beside the work that fills them). At most
  // kShapes * kDepth * kMaxBytes (2 MiB) are kept per output.
  static constexpr size_t kDepth = 2;
  static constexpr size_t kShapes = 4;
  static constexpr size_t kMaxBytes = size_t{256} << 10;

  struct Generation;  // output_pool.cpp: the values kept for one set of input shapes

  // One run's hold on the generation of its input shapes: it takes values from it, and the arrays
  // it returns give theirs back to it (not to a later generation: another thread's run may have
  // moved the pool on to other shapes meanwhile). Holds nothing when default-made.
  class Lease {
   public:
    Lease() = default;
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    // A kept value for `output`, owned by the caller from now on, or null.
    OrtValue* take(size_t output);
    // Whether an array of `bytes` and shape `dims` over output `output`'s buffer should go back to
    // the pool: besides size, its shape must be one the model declares for that output, since
    // ONNX Runtime checks a buffer passed in against the declaration before it runs (and real
    // models declare shapes their outputs do not have).
    bool keeps(size_t output, const int64_t* dims, size_t ndim, size_t bytes) const;
    // The base object for such an array: a capsule owning `value` whose release gives it back to
    // this generation, or frees it once the generation is retired. Null with a Python error set
    // (the caller still owns the value).
    PyObject* owner(OrtValue* value, size_t output);

    // Set by OutputPool::lease: the generation of this run's input shapes, one reference taken.
    void hold(const OutputPool* pool, Generation* generation);

   private:
    const OutputPool* pool_ = nullptr;  // outlives the lease: the session holds both for the run
    Generation* generation_ = nullptr;
  };

  // `eligible[k]`: output k is a numeric tensor of whole bytes (what Run can write into);
  // `declared[k]`: its declared dims (-1 for a dynamic one; none for a scalar or an unknown rank).
  OutputPool(std::vector<char> eligible, std::vector<std::vector<int64_t>> declared);
  ~OutputPool();
  OutputPool(const OutputPool&) = delete;
  OutputPool& operator=(const OutputPool&) = delete;

  bool enabled() const { return enabled_.load(std::memory_order_acquire); }
  // Turns the pool off for good, freeing what it keeps (a refused run, close()).
  void disable();
  // The shapes of one run's inputs, in the model's order, as ONNX Runtime sees them.
  class Key {
   public:
    void absent() { values_.push_back(-1); }  // an input left out
    template <typename Dim>
    void add(const Dim* dims, size_t ndim) {
      values_.push_back(static_cast<int64_t>(ndim));
      values_.insert(values_.end(), dims, dims + ndim);
    }

    const std::vector<int64_t>& values() const { return values_; }
    void clear() { values_.clear(); }

   private:
    std::vector<int64_t> values_;  // per input: -1 when left out, else ndim, then the dims
  };
  // An empty key kept per thread, so that a run with the same shapes as the last allocates nothing.
  static Key& scratch_key();

  // Makes `lease` hold the generation of these input shapes: one of the last kShapes sets', else a
  // new one (the least recently used set's values are freed).
  void lease(Lease& lease, const Key& key);

 private:
  struct Shapes {
    std::vector<int64_t> key;
    Generation* generation;
  };

  bool declares(size_t output, const int64_t* dims, size_t ndim) const;

  const std::vector<char> eligible_;
  const std::vector<std::vector<int64_t>> declared_;
  std::atomic<bool> enabled_{true};
  std::mutex mutex_;            // guards recent_
  std::vector<Shapes> recent_;  // most recently used first, at most kShapes
};

}  // namespace ortbind
