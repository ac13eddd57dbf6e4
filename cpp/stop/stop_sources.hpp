// What can stop one run, or one session being made: its CancelToken, its time limit, and Ctrl-C on
// the main thread, armed on the flag ONNX Runtime checks (stop_target.hpp).
#pragma once
#include "common.hpp"

#include "stop/cancel_token.hpp"
#include "stop/sigint.hpp"
#include "stop/stop_target.hpp"
#include "stop/watchdog.hpp"

#include <memory>
#include <optional>

namespace ortbind {

class StopSources {
 public:
  // `subject` names what is stopped in messages ("the run", "making the session").
  StopSources(StopTarget target, std::shared_ptr<CancelToken> token, double timeout_seconds, bool watch_ctrl_c,
              const char* subject)
      : target_(target),
        token_(std::move(token)),
        timeout_(timeout_seconds),
        watch_ctrl_c_(watch_ctrl_c),
        subject_(subject) {}
  ~StopSources() { disarm(); }
  StopSources(const StopSources&) = delete;
  StopSources& operator=(const StopSources&) = delete;

  // Attaches the token (stopping the target at once if it is cancelled already), the time limit
  // and Ctrl-C.
  void arm();
  // Detaches them (the first call does; later ones do nothing). After it, nothing sets the flag.
  void disarm();
  // Whether anything of ours may have set the flag (it must then be unset before a reuse).
  bool may_have_stopped() const { return may_have_stopped_; }
  void stop_now() {
    may_have_stopped_ = true;
    target_.stop();
  }
  // With the GIL held, after the call failed: the reason it stopped as KeyboardInterrupt (Python's
  // handler runs), RunTimeout or Cancelled; nothing when none of ours stopped it.
  void raise_if_stopped();

 private:
  StopTarget target_;
  std::shared_ptr<CancelToken> token_;  // shared with Python: a token dropped there lives out the call
  double timeout_;
  bool watch_ctrl_c_;
  const char* subject_;
  bool token_attached_ = false;
  bool timer_fired_ = false;
  bool interrupted_ = false;
  bool may_have_stopped_ = false;
  std::optional<Deadline> deadline_;
  std::optional<CtrlCWatch> ctrl_c_;
};

}  // namespace ortbind
