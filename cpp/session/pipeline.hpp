// The run pipeline: what every run of a session goes through, whichever path calls the runtime
// (run(): OrtApi::Run; Binding.run: RunWithBinding; run_async(): RunAsync).
//
//   request -> feeds checked and wrapped -> outputs selected -> buffers of dropped outputs passed
//   back -> the runtime call (GIL released, session held open, stop controls armed) -> once more
//   with fresh outputs if ONNX Runtime refused a buffer passed back -> the run's error, or its
//   results.
#pragma once
#include "common.hpp"

#include "session/call.hpp"
#include "session/session.hpp"
#include "stop/stop_control.hpp"

#include <chrono>
#include <optional>

namespace ortbind {

class RunPipeline {
 public:
  RunPipeline(const Session& session, Request request)
      : session_(session), request_(std::move(request)), call_(session.signature().input_names.size(), request_) {}
  RunPipeline(const RunPipeline&) = delete;
  RunPipeline& operator=(const RunPipeline&) = delete;

  const Session& session() const { return session_; }
  const Request& request() const { return request_; }
  Call& call() { return call_; }

  // The feeds checked and wrapped, and the outputs selected (see feeds.cpp).
  void feed(py::handle feeds, const std::vector<char>* prebound = nullptr);
  void select_outputs();

  // Leases the session's pool generation of the inputs' shapes, read right after feed(), before
  // other Python code can reshape an input (looking up an output name may run a str subclass's
  // __eq__). Inputs a binding bound once (`bound_dims[i]` non-null) count with the shape they were
  // bound with. Nothing when the pool is off or an input is not a tensor.
  void lease_outputs(const std::vector<const std::vector<int64_t>*>* bound_dims = nullptr);
  // Once the outputs are selected: the leased buffers of dropped outputs of earlier runs, taken into
  // `into` (one slot per selected output; null where none is kept); whether any was.
  bool pass_back(RunValues& into);

  // A run on the calling thread: `launch(stop)` makes the runtime call, with the GIL released and
  // the session held open, and returns its status (it may throw a ValidationError before starting
  // `stop`). When buffers were passed back (`passed_back`) and ONNX Runtime refused one (an output
  // whose size depends on input values came out in another shape), the pool is turned off for the
  // session, those in `passed` are released, and the run is launched once more within what is left
  // of its time limit. Throws the run's error: the stop that ended it, else ONNX Runtime's.
  template <typename Launch>
  void run(Launch&& launch, RunValues& passed, bool passed_back);

  // run_async's start: arms the run's stop controls into `stop` (where the callback finds them: it
  // may come on another thread before this returns, and takes them), then `launch(options)` hands
  // the run to ONNX Runtime (RunAsync), with the GIL released and the session held open. Neither
  // `stop` nor anything the callback owns is touched once the launch has succeeded.
  template <typename Launch>
  void start_async(std::unique_ptr<StopControl>& stop, Launch&& launch);

  // The results of a finished run (collect()).
  py::object results(PyObject* keys = nullptr, bool keys_hold_preallocated = false) {
    return collect(session_.signature(), call_, keys, keys_hold_preallocated);
  }

 private:
  template <typename Launch>
  void attempt(Launch& launch, double timeout, bool quiet);
  bool refused() const;
  void raise_failure();

  const Session& session_;
  const Request request_;
  Call call_;
  std::optional<StopControl> stop_;
  StatusGuard status_;
};

// For the length of a run that may be refused for a buffer passed back: raises its log severity to
// fatal, so that the refusal (not the caller's error: the run is repeated) is not logged as an
// error, then puts the severity back (a thread's options serve all its runs). Does nothing with
// null options, or when the Env logs below warnings (`log_level` info or verbose: the user asked
// for everything).
class QuietRun {
 public:
  QuietRun(OrtRunOptions* options, OrtLoggingLevel env_level);
  ~QuietRun();
  QuietRun(const QuietRun&) = delete;
  QuietRun& operator=(const QuietRun&) = delete;

 private:
  OrtRunOptions* options_;
  int severity_ = -1;
};

template <typename Launch>
void RunPipeline::attempt(Launch& launch, double timeout, bool quiet) {
  stop_.emplace(RunThread::kCaller, request_.run_options(false), request_.token, timeout);
  const QuietRun quieted(quiet ? stop_->options() : nullptr, session_.log_level());
  status_.reset(nullptr);
  if (!session_.while_open([&] { status_.reset(launch(*stop_)); }))
    fail(Problem::Closed, "the session was closed before the run started");
}

template <typename Launch>
void RunPipeline::run(Launch&& launch, RunValues& passed, bool passed_back) {
  using Clock = std::chrono::steady_clock;
  const auto began = passed_back && request_.timeout >= 0 ? Clock::now() : Clock::time_point{};
  attempt(launch, request_.timeout, passed_back);
  if (passed_back && refused()) {
    stop_->raise_if_stopped();  // a stop that came meanwhile ends the run here
    session_.pool().disable();
    passed.release_all();
    double left = request_.timeout;
    if (left >= 0) left = std::max(0.0, left - std::chrono::duration<double>(Clock::now() - began).count());
    attempt(launch, left, false);
  }
  if (status_.failed()) raise_failure();
}

template <typename Launch>
void RunPipeline::start_async(std::unique_ptr<StopControl>& stop, Launch&& launch) {
  stop =
      std::make_unique<StopControl>(RunThread::kRuntime, request_.run_options(true), request_.token, request_.timeout);
  stop->start();
  OrtRunOptions* options = stop->options();
  StatusGuard status;
  if (!session_.while_open([&] { status.reset(launch(options)); }))
    fail(Problem::Closed, "the session was closed before the run started");
  check(status.release());
}

}  // namespace ortbind
