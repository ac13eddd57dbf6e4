// Stopping a run: ONNX Runtime checks the terminate flag of a run's OrtRunOptions between nodes, so
// a run is stopped by setting that flag from another thread (a token, the watchdog's time limit,
// interpreter exit) or from a signal handler (Ctrl-C). StopControl gathers them for one run.
#include "stop/stop_control.hpp"

namespace ortbind {

StopControl::StopControl(RunThread thread, RunOptions options, std::shared_ptr<CancelToken> token,
                         double timeout_seconds)
    : options_(std::move(options)),
      token_(std::move(token)),
      timeout_(timeout_seconds),
      watch_ctrl_c_(thread == RunThread::kCaller && on_main_thread()) {}

StopControl::~StopControl() {
  stop();
  // A terminated run leaves the flag set; the thread's next run must start clean.
  if (stopped_by_us_ && !options_.owned()) discard(api().RunOptionsUnsetTerminate(options_.get()));
  in_flight_.reset();
}

void StopControl::terminate() {
  stopped_by_us_ = true;
  check(api().RunOptionsSetTerminate(options_.get()));
}

void StopControl::start() {
  // Counted before the exit flag is read: exit sets the flag before it terminates the runs counted,
  // so a run is either terminated there or sees the flag here.
  in_flight_.emplace(options_.owned() ? options_.get() : nullptr);
  if (exit_has_begun()) terminate();
  if (token_) {
    stopped_by_us_ = true;  // cancel() may set the flag at any time while attached
    token_attached_ = token_->attach(options_.get());
    if (!token_attached_) terminate();
  }
  if (timeout_ >= 0) {
    stopped_by_us_ = true;
    deadline_.emplace(options_.get(), timeout_);
  }
  if (watch_ctrl_c_) {
    ctrl_c_.emplace(options_.get());
    watch_main_thread();
  }
}

void StopControl::stop() {
  if (ctrl_c_) {
    interrupted_ = ctrl_c_->end();
    if (interrupted_) stopped_by_us_ = true;
    ctrl_c_.reset();
  }
  if (deadline_) {
    timer_fired_ = deadline_->disarm();
    deadline_.reset();
  }
  if (token_attached_) {
    token_->detach(options_.get());
    token_attached_ = false;
  }
}

void StopControl::raise_if_stopped() {
  if (interrupted_) {
    // Python's handler runs now; the default one raises KeyboardInterrupt.
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    fail(Problem::Cancelled, "the run was interrupted by SIGINT");
  }
  if (timer_fired_) {
    fail(Problem::Timeout, "the run did not finish within its time limit of " + std::to_string(timeout_) + " s");
  }
  if (token_ && token_->cancelled()) fail(Problem::Cancelled, "the run was cancelled by its CancelToken");
}

}  // namespace ortbind
