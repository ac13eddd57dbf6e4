// The OrtRunOptions a run is given. ONNX Runtime reads a run's terminate flag, log settings, tag,
// config entries and active LoRA adapters from them.
#pragma once
#include "common.hpp"

#include <memory>
#include <vector>

namespace ortbind {

class RunOptions {
 public:
  // The calling thread's own options (made on its first run and reused by every later one, so the
  // common call allocates nothing), or, with `own`, options made for this run alone: run_async's,
  // which live until its callback, and those of a run that sets anything of its own (ONNX Runtime
  // cannot take an adapter out of a set again, and a thread's next run must not inherit a tag).
  explicit RunOptions(bool own);
  ~RunOptions();
  RunOptions(RunOptions&& other) noexcept;
  RunOptions& operator=(RunOptions&&) = delete;
  RunOptions(const RunOptions&) = delete;
  RunOptions& operator=(const RunOptions&) = delete;

  OrtRunOptions* get() const { return options_; }
  bool owned() const { return owned_; }
  // Keeps `object` alive as long as these options: what they point at (an active LoRA adapter).
  void hold(std::shared_ptr<const void> object) { held_.push_back(std::move(object)); }

 private:
  OrtRunOptions* options_ = nullptr;
  bool owned_ = false;
  std::vector<std::shared_ptr<const void>> held_;
};

}  // namespace ortbind
