// Small owners for one run's values: the hot path should neither allocate for a handful of values
// nor leak one when a step throws.
#pragma once
#include "common.hpp"

#include "values/value.hpp"

#include <algorithm>
#include <vector>

namespace ortbind {

// A short array on the stack, spilling to the heap past N. Copies are plain copies of the elements
// (data() picks the storage anew each time), so the default copy is right.
template <typename T, size_t N>
class SmallArray {
 public:
  explicit SmallArray(size_t size, T fill) : size_(size) {
    if (size > N)
      heap_.assign(size, fill);
    else
      std::fill(inline_, inline_ + size, fill);
  }
  T* data() { return size_ > N ? heap_.data() : inline_; }
  const T* data() const { return size_ > N ? heap_.data() : inline_; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  size_t size() const { return size_; }

 private:
  size_t size_;
  T inline_[N];
  std::vector<T> heap_;
};

// How many inputs or outputs a run holds without a heap allocation: models with dozens of inputs
// are common (tabular features), and a run's arrays live on the stack for the call alone.
constexpr size_t kRunValuesInline = 64;

// OrtValues made for one run, each released when the run is over unless taken first (an output
// handed to Python). Neither copied nor moved: a copy would release every value twice.
class RunValues {
 public:
  explicit RunValues(size_t size) : values_(size, nullptr) {}
  ~RunValues() {
    for (size_t i = 0; i < values_.size(); ++i)
      if (values_[i] != nullptr) api().ReleaseValue(values_[i]);
  }
  RunValues(const RunValues&) = delete;
  RunValues& operator=(const RunValues&) = delete;

  OrtValue*& operator[](size_t i) { return values_[i]; }
  OrtValue** data() { return values_.data(); }
  OwnedValue take(size_t i) {
    OwnedValue owned(values_[i]);
    values_[i] = nullptr;
    return owned;
  }
  // Releases every value held, leaving null slots.
  void release_all() {
    for (size_t i = 0; i < values_.size(); ++i)
      if (values_[i] != nullptr) api().ReleaseValue(std::exchange(values_[i], nullptr));
  }
  size_t size() const { return values_.size(); }

 private:
  SmallArray<OrtValue*, kRunValuesInline> values_;
};

// The status of a runtime call, released unread unless release() hands it to check().
class StatusGuard {
 public:
  explicit StatusGuard(OrtStatus* status = nullptr) : status_(status) {}
  ~StatusGuard() { discard(status_); }
  StatusGuard(const StatusGuard&) = delete;
  StatusGuard& operator=(const StatusGuard&) = delete;

  void reset(OrtStatus* status) {
    discard(status_);
    status_ = status;
  }
  bool failed() const { return status_ != nullptr; }
  OrtStatus* get() const { return status_; }
  OrtStatus* release() { return std::exchange(status_, nullptr); }

 private:
  OrtStatus* status_;
};

}  // namespace ortbind
