// Releasing the GIL around runtime calls, safely at the very end of interpreter exit.
#pragma once
#include "common.hpp"

namespace ortbind {

// Releases the GIL for its scope, as py::gil_scoped_release does, except at the very end of
// interpreter exit: once exit has stopped waiting for runs, a thread that would take the GIL back
// is parked for good instead (the process ends around it); the thread finalizing the interpreter
// (the one that ran the exit hook) goes on. CPython 3.11 ends such a daemon thread
// inside PyEval_RestoreThread by unwinding it (pthread_exit), and an unwind through a C++
// destructor, which is noexcept, aborts the whole process. A run counted in flight cannot meet
// this: exit waits for it, with the GIL free, before it finalizes. On a free-threaded interpreter
// it detaches the thread state the same way, so a thread blocked in ONNX Runtime never holds up
// the stop-the-world pauses of the garbage collector.
class GilReleased {
 public:
  GilReleased() : state_(PyEval_SaveThread()) {}
  ~GilReleased();
  GilReleased(const GilReleased&) = delete;
  GilReleased& operator=(const GilReleased&) = delete;

 private:
  PyThreadState* state_;
};

}  // namespace ortbind
