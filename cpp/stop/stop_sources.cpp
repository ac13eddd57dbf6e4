#include "stop/stop_sources.hpp"

#include <string>

namespace ortbind {

void StopSources::arm() {
  if (token_) {
    may_have_stopped_ = true;  // cancel() may set the flag at any time while attached
    token_attached_ = token_->attach(target_);
    if (!token_attached_) stop_now();
  }
  if (timeout_ >= 0) {
    may_have_stopped_ = true;
    deadline_.emplace(target_, timeout_);
  }
  if (watch_ctrl_c_) {
    ctrl_c_.emplace(target_);
    watch_main_thread();
  }
}

void StopSources::disarm() {
  if (ctrl_c_) {
    interrupted_ = ctrl_c_->end();
    if (interrupted_) may_have_stopped_ = true;
    ctrl_c_.reset();
  }
  if (deadline_) {
    timer_fired_ = deadline_->disarm();
    deadline_.reset();
  }
  if (token_attached_) {
    token_->detach(target_);
    token_attached_ = false;
  }
}

void StopSources::raise_if_stopped() {
  const std::string subject = subject_;
  if (interrupted_) {
    // Python's handler runs now; the default one raises KeyboardInterrupt.
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    fail(Problem::Cancelled, subject + " was interrupted by SIGINT");
  }
  if (timer_fired_)
    fail(Problem::Timeout, subject + " did not finish within its time limit of " + std::to_string(timeout_) + " s");
  if (token_ && token_->cancelled()) fail(Problem::Cancelled, subject + " was cancelled by its CancelToken");
}

}  // namespace ortbind
