#pragma once
#include "common.hpp"

#include "stop/stop_target.hpp"

#include <vector>

namespace ortbind {

// What Python sees as ortbind.CancelToken: cancel() stops every run that was given the token, now
// or later (a token is cancelled once and for good). Shared (std::shared_ptr) between Python and
// the runs using it, so a token dropped by Python lives until those runs end.
class CancelToken {
 public:
  CancelToken() = default;
  // A copy would not stop the original's runs: one token, one object.
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  void cancel();
  bool cancelled() const;
  // False when already cancelled; otherwise cancel() stops the target until detach.
  bool attach(StopTarget target);
  void detach(StopTarget target);

 private:
  // Both guarded by one process-wide lock (cancel_token.cpp) rather than one per token, so that fork
  // can take it (fork.hpp): a token is a Python object, and a child inherits it.
  bool cancelled_ = false;
  std::vector<StopTarget> running_;
};

}  // namespace ortbind
