// CancelToken: a token stops its runs (and sessions being made) by setting the flag ONNX Runtime
// checks as it goes (stop_target.hpp), from whichever thread calls cancel().
#include "stop/cancel_token.hpp"

#include "runtime/fork.hpp"

#include <mutex>

namespace ortbind {
namespace {

// Held only for a few pointer updates and flag writes: one lock for every token costs nothing
// measurable, and one lock is what fork can take.
std::mutex g_tokens_mutex;
[[maybe_unused]] const int g_tokens_mutex_forks = keep_across_fork<g_tokens_mutex>();

}  // namespace

void CancelToken::cancel() {
  std::lock_guard<std::mutex> lock(g_tokens_mutex);
  cancelled_ = true;
  for (const StopTarget& target : running_) target.stop();
}

bool CancelToken::cancelled() const {
  std::lock_guard<std::mutex> lock(g_tokens_mutex);
  return cancelled_;
}

bool CancelToken::attach(StopTarget target) {
  std::lock_guard<std::mutex> lock(g_tokens_mutex);
  if (cancelled_) return false;
  running_.push_back(target);
  return true;
}

void CancelToken::detach(StopTarget target) {
  std::lock_guard<std::mutex> lock(g_tokens_mutex);
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if (*it == target) {
      running_.erase(it);
      return;
    }
  }
}

}  // namespace ortbind
