#pragma once
#include "common.hpp"

#include "stop/stop_target.hpp"

namespace ortbind {

// Records Python's main thread (at import): only a run there can be interrupted by Ctrl-C.
void set_main_thread(unsigned long ident);
bool on_main_thread();

// One run on the main thread, watched for Ctrl-C from construction to destruction. Only one can be
// in flight at a time (the main thread runs one model at a time).
class CtrlCWatch {
 public:
  explicit CtrlCWatch(StopTarget target);
  ~CtrlCWatch() { end(); }
  CtrlCWatch(const CtrlCWatch&) = delete;
  CtrlCWatch& operator=(const CtrlCWatch&) = delete;

  // Ends the watch (the first call does); true if a SIGINT set the run's terminate flag, up to the
  // moment the watch ended.
  bool end();

 private:
  StopTarget target_;  // the signal handler reaches it through a pointer while watched
  bool watching_ = true;
  bool interrupted_ = false;
};

// For the watchdog, which arms the handler only for main-thread runs that last (sigint.cpp says
// why). Runs started plus runs ended on the main thread: odd while one is in flight.
uint64_t main_thread_runs();
bool sigint_armed();
// Installs the handler if main-thread run `runs` (main_thread_runs() read earlier) is still going.
void arm_sigint_during(uint64_t runs);

}  // namespace ortbind
