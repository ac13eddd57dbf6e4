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
// True once stop_runs_at_exit has stopped waiting: the interpreter goes on to finalize.
bool exit_wait_over();

// Releases the GIL for its scope, as py::gil_scoped_release does, except at the very end of
// interpreter exit: once exit has stopped waiting for runs, a thread that would take the GIL back
// is parked for good instead (the process ends around it); the thread finalizing the interpreter
// (the one that ran the exit hook) goes on. CPython 3.11 ends such a daemon thread
// inside PyEval_RestoreThread by unwinding it (pthread_exit), and an unwind through a C++
// destructor, which is noexcept, aborts the whole process. A run counted in flight cannot meet
// this: exit waits for it, with the GIL free, before it finalizes.
class GilReleased {
 public:
  GilReleased() : state_(PyEval_SaveThread()) {}
  ~GilReleased();
  GilReleased(const GilReleased&) = delete;
  GilReleased& operator=(const GilReleased&) = delete;

 private:
  PyThreadState* state_;
};

// Called once, at interpreter exit (atexit), with the GIL released: terminates every run in flight
// and waits (a few seconds at most) until none is left, so that no thread is inside ONNX Runtime
// while the process tears it down.
void stop_runs_at_exit();

}  // namespace ortbind
