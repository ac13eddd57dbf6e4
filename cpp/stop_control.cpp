// Stopping a run: ONNX Runtime checks the terminate flag of a run's OrtRunOptions between nodes, so
// a run is stopped by setting that flag from another thread (a token, the watchdog's time limit,
// interpreter exit) or from a signal handler (Ctrl-C). StopControl gathers them for one run;
// bind_cancel registers CancelToken and the process hooks they rely on.
#include "stop_control.hpp"

namespace ortbind {

StopControl::StopControl(RunThread thread, std::shared_ptr<CancelToken> token, double timeout_seconds,
                         std::vector<std::shared_ptr<LoraAdapter>> adapters)
    : thread_(thread),
      adapters_(std::move(adapters)),
      token_(std::move(token)),
      timeout_(timeout_seconds),
      watch_ctrl_c_(thread == RunThread::kCaller && on_main_thread()) {
  if (thread_ == RunThread::kRuntime || !adapters_.empty()) {
    OrtRunOptions* made = nullptr;
    check(api().CreateRunOptions(&made));
    own_options_.reset(made);
    options_ = made;
    for (const auto& adapter : adapters_) check(api().RunOptionsAddActiveLoraAdapter(options_, adapter->get()));
  } else {
    options_ = thread_run_options();
  }
}

StopControl::~StopControl() {
  stop();
  // A terminated run leaves the flag set; the thread's next run must start clean.
  if (stopped_by_us_ && !own_options_) discard(api().RunOptionsUnsetTerminate(options_));
  in_flight_.reset();
}

void StopControl::terminate() {
  stopped_by_us_ = true;
  check(api().RunOptionsSetTerminate(options_));
}

void StopControl::start() {
  // Counted before the exit flag is read: exit sets the flag before it terminates the runs counted,
  // so a run is either terminated there or sees the flag here.
  in_flight_.emplace(own_options_ ? options_ : nullptr);
  if (exit_has_begun()) terminate();
  if (token_) {
    stopped_by_us_ = true;  // cancel() may set the flag at any time while attached
    token_attached_ = token_->attach(options_);
    if (!token_attached_) terminate();
  }
  if (timeout_ >= 0) {
    stopped_by_us_ = true;
    deadline_.emplace(options_, timeout_);
  }
  if (watch_ctrl_c_) {
    ctrl_c_.emplace(options_);
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
    token_->detach(options_);
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

void bind_cancel(py::module_& m) {
  set_main_thread(py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>());
  py::module_::import("atexit").attr("register")(py::cpp_function([] {
    py::gil_scoped_release release;
    stop_runs_at_exit();
  }));

  py::class_<CancelToken, std::shared_ptr<CancelToken>>(m, "CancelToken", R"doc(CancelToken()
--

Cancels runs from another thread: pass it as ``run(..., cancel=token)`` and call ``token.cancel()``.
ONNX Runtime stops between two nodes; the run raises ``ortbind.Cancelled`` and the session stays
usable. A token is cancelled for good: runs started with it later raise at once.
)doc")
      .def(py::init<>(), "__init__(self)\n--\n\nA token not yet cancelled.")
      .def(
          "cancel", [](py::handle self) { native<CancelToken>(self, "ortbind.CancelToken").cancel(); },
          "cancel(self)\n--\n\nStop every run using this token, now and later.")
      .def_property_readonly(
          "cancelled", [](py::handle self) { return native<CancelToken>(self, "ortbind.CancelToken").cancelled(); });
}

}  // namespace ortbind
