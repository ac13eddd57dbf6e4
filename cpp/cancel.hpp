#pragma once
#include "common.hpp"

#include <memory>
#include <mutex>
#include <vector>

namespace ortbind {

// What Python sees as ortbind.CancelToken: cancel() stops every run that was given the token,
// now or later (a token is cancelled once and for good).
class CancelToken {
 public:
  void cancel();
  bool cancelled() const;
  // False when already cancelled; otherwise cancel() will terminate these options until detach.
  bool attach(OrtRunOptions* options);
  void detach(OrtRunOptions* options);

 private:
  mutable std::mutex mutex_;
  bool cancelled_ = false;
  std::vector<OrtRunOptions*> running_;
};

// Everything that can stop one run: a token, a time limit, and Ctrl-C when the run is on the main
// thread (for runs longer than the watchdog's poll interval). Built with the GIL held; start() and
// stop() bracket Run with the GIL released; raise_if_stopped() turns the reason a run stopped into
// KeyboardInterrupt, RunTimeout or Cancelled.
class RunControl {
 public:
  RunControl(std::shared_ptr<CancelToken> token, double timeout_seconds);
  ~RunControl();
  RunControl(const RunControl&) = delete;
  RunControl& operator=(const RunControl&) = delete;

  OrtRunOptions* options() const { return options_; }
  void start();
  void stop();
  // Called with the GIL held after a failed Run: raises the reason if the run was stopped by us.
  void raise_if_stopped();

 private:
  OrtRunOptions* options_;
  std::shared_ptr<CancelToken> token_;
  double timeout_;
  bool on_main_thread_;
  bool token_refused_ = false;
  bool timer_fired_ = false;
  bool stopped_by_us_ = false;  // the flag may be set: unset it before the thread's next run
  std::shared_ptr<struct TimerEntry> timer_;
};

// For runs that do not block their thread (run_async): a time limit on these options, and the count
// of runs in flight that interpreter exit waits for.
std::shared_ptr<struct TimerEntry> arm_timer(OrtRunOptions* options, double seconds);
bool disarm_timer(const std::shared_ptr<struct TimerEntry>& entry);  // true if it fired
// Counts a run in (+1) or out (-1); runs counted with their options are terminated at exit.
void count_run(int change, OrtRunOptions* options = nullptr);

}  // namespace ortbind
