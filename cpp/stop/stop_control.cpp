// Stopping a run: ONNX Runtime checks the terminate flag of a run's OrtRunOptions between nodes, so
// a run is stopped by setting that flag from another thread (a token, the watchdog's time limit,
// interpreter exit) or from a signal handler (Ctrl-C). StopControl gathers them for one run.
#include "stop/stop_control.hpp"

namespace ortbind {

StopControl::StopControl(RunThread thread, RunOptions options, std::shared_ptr<CancelToken> token,
                         double timeout_seconds)
    : options_(std::move(options)),
      sources_(StopTarget::run(options_.get()), std::move(token), timeout_seconds,
               thread == RunThread::kCaller && on_main_thread(), "the run") {}

StopControl::~StopControl() {
  stop();
  // A terminated run leaves the flag set; the thread's next run must start clean.
  if (sources_.may_have_stopped() && !options_.owned()) discard(api().RunOptionsUnsetTerminate(options_.get()));
  in_flight_.reset();
}

void StopControl::start() {
  // Counted before the exit flag is read: exit sets the flag before it terminates the runs counted,
  // so a run is either terminated there or sees the flag here.
  in_flight_.emplace(options_.owned() ? options_.get() : nullptr);
  if (exit_has_begun()) sources_.stop_now();
  sources_.arm();
}

void StopControl::stop() { sources_.disarm(); }

void StopControl::raise_if_stopped() { sources_.raise_if_stopped(); }

}  // namespace ortbind
