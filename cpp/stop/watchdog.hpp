#pragma once
#include "common.hpp"

#include "stop/stop_target.hpp"

#include <memory>

namespace ortbind {

// A time limit on one run (or load), from construction until disarm() (or destruction): when it
// passes first, the watchdog thread stops the target.
class Deadline {
 public:
  Deadline(StopTarget target, double seconds);
  ~Deadline() { disarm(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // After it returns, the watchdog never touches the target again, so it may be reused or
  // released. True if the limit passed first (the run was terminated).
  bool disarm();

 private:
  std::shared_ptr<struct TimerEntry> entry_;  // shared with the watchdog's queue while armed
  bool armed_ = true;
  bool fired_ = false;
};

// A main-thread run began: make sure the watchdog polls, to arm Ctrl-C if the run lasts (sigint.cpp).
void watch_main_thread();

}  // namespace ortbind
