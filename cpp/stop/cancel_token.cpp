// CancelToken: ONNX Runtime checks the terminate flag of a run's OrtRunOptions between nodes, so a
// token stops its runs by setting that flag, from whichever thread calls cancel().
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
  for (OrtRunOptions* options : running_) check(api().RunOptionsSetTerminate(options));
}

bool CancelToken::cancelled() const {
  std::lock_guard<std::mutex> lock(g_tokens_mutex);
  return cancelled_;
}

bool CancelToken::attach(OrtRunOptions* options) {
  std::lock_guard<std::mutex> lock(g_tokens_mutex);
  if (cancelled_) return false;
  running_.push_back(options);
  return true;
}

void CancelToken::detach(OrtRunOptions* options) {
  std::lock_guard<std::mutex> lock(g_tokens_mutex);
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if (*it == options) {
      running_.erase(it);
      return;
    }
  }
}

}  // namespace ortbind
