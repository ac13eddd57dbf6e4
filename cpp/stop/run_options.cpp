#include "stop/run_options.hpp"

#include "stop/runs_in_flight.hpp"

namespace ortbind {
namespace {

// A thread's options, released when the thread ends (after they leave exit's registry).
class ThreadOptions {
 public:
  ThreadOptions() {
    check(api().CreateRunOptions(&options_));
    watch_at_exit(options_);
  }
  ~ThreadOptions() {
    unwatch_at_exit(options_);
    api().ReleaseRunOptions(options_);
  }
  ThreadOptions(const ThreadOptions&) = delete;
  ThreadOptions& operator=(const ThreadOptions&) = delete;

  OrtRunOptions* options() const { return options_; }

 private:
  OrtRunOptions* options_ = nullptr;
};

OrtRunOptions* thread_run_options() {
  thread_local ThreadOptions local;
  return local.options();
}

}  // namespace

RunOptions::RunOptions(bool own) : owned_(own) {
  if (own)
    check(api().CreateRunOptions(&options_));
  else
    options_ = thread_run_options();
}

RunOptions::RunOptions(RunOptions&& other) noexcept
    : options_(std::exchange(other.options_, nullptr)), owned_(other.owned_), held_(std::move(other.held_)) {}

RunOptions::~RunOptions() {
  if (owned_ && options_ != nullptr) api().ReleaseRunOptions(options_);
}

}  // namespace ortbind
