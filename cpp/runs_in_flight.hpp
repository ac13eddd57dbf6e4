#pragma once
#include "common.hpp"

namespace ortbind {

// The calling thread's own OrtRunOptions, made on its first run and reused by every later one (the
// common call allocates nothing). Registered for stop_runs_at_exit while the thread lives.
OrtRunOptions* thread_run_options();

// One run that interpreter exit waits for, from construction to destruction. `own_options`, when
// given, are options made for this run alone (run_async): they are registered for stop_runs_at_exit
// for the same span, so they must outlive this object. A run started once exit has begun is
// terminated by its owner (exit_has_begun).
class RunInFlight {
 public:
  explicit RunInFlight(OrtRunOptions* own_options = nullptr);
  ~RunInFlight();
  RunInFlight(const RunInFlight&) = delete;
  RunInFlight& operator=(const RunInFlight&) = delete;

 private:
  OrtRunOptions* own_options_;
  unsigned generation_;  // a run inherited through fork never ends in the child: not counted there
};

bool exit_has_begun();

// Called once, at interpreter exit (atexit), with the GIL released: terminates every run in flight
// and waits (a few seconds at most) until none is left, so that no thread is inside ONNX Runtime
// while the process tears it down.
void stop_runs_at_exit();

}  // namespace ortbind
