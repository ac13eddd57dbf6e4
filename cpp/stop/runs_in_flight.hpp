// Interpreter exit while other threads are inside Run: every run in flight is terminated and waited
// for before the runtime's static destructors can run under it.
#pragma once
#include "common.hpp"

#include <thread>

namespace ortbind {

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
// True once stop_runs_at_exit has stopped waiting: the interpreter goes on to finalize.
bool exit_wait_over();
// The thread that ran the exit hook: the one finalizing the interpreter.
std::thread::id exit_thread();

// Registers options whose run interpreter exit terminates (stop_runs_at_exit), until unregistered.
void watch_at_exit(OrtRunOptions* options);
void unwatch_at_exit(OrtRunOptions* options);

// Called once, at interpreter exit (atexit), with the GIL released: terminates every run in flight
// and waits (a few seconds at most) until none is left, so that no thread is inside ONNX Runtime
// while the process tears it down.
void stop_runs_at_exit();

}  // namespace ortbind
