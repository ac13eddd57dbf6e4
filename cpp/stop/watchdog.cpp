// The watchdog: one thread for the whole process, for time limits and for arming Ctrl-C during long
// main-thread runs. Started on first need; it polls only while main-thread runs come, and otherwise
// sleeps until the next deadline.
#include "stop/watchdog.hpp"

#include "runtime/fork.hpp"
#include "stop/sigint.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace ortbind {

using Clock = std::chrono::steady_clock;

struct TimerEntry {
  StopTarget target;
  bool fired = false;  // guarded by the watchdog's mutex
};

namespace {

class Watchdog {
 public:
  static Watchdog& instance() {
    // Never destroyed: its thread may be waiting on it when the process exits.
    static Watchdog* watchdog = new Watchdog();
    return *watchdog;
  }

  void arm(const std::shared_ptr<TimerEntry>& entry, Clock::time_point deadline) {
    std::lock_guard<std::mutex> lock(mutex_);
    start_locked();
    deadlines_.emplace(deadline, entry);
    wake_.notify_one();
  }

  bool disarm(const std::shared_ptr<TimerEntry>& entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = deadlines_.begin(); it != deadlines_.end(); ++it) {
      if (it->second == entry) {
        deadlines_.erase(it);
        break;
      }
    }
    return entry->fired;
  }

  void watch_main_thread() {
    if (polling_.load(std::memory_order_relaxed)) return;
    std::lock_guard<std::mutex> lock(mutex_);
    start_locked();
    polling_.store(true);
    wake_.notify_one();
  }

  // The fork handlers (fork.hpp). The lock is taken and released like every global lock; in the
  // child, where the thread does not exist, the next need starts a new one. The condition variable
  // is made anew rather than destroyed: the parent's thread may have been waiting on it, and
  // glibc's destroy waits for its waiters, which the child will never see leave.
  void before_fork() { mutex_.lock(); }
  void after_fork_in_parent() { mutex_.unlock(); }
  void after_fork_in_child() {
    new (&wake_) std::condition_variable();
    running_ = false;
    polling_.store(false);
    deadlines_.clear();
    mutex_.unlock();
  }

 private:
  static constexpr auto kPoll = std::chrono::milliseconds(10);
  static constexpr int kIdlePolls = 100;  // a second without main-thread runs: stop polling

  void start_locked() {
    if (running_) return;
    std::thread([this] { loop(); }).detach();
    running_ = true;
  }

  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    uint64_t seen = 0;
    int idle = 0;
    for (;;) {
      const auto now = Clock::now();
      while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        auto& entry = deadlines_.begin()->second;
        entry->fired = true;
        entry->target.stop();
        deadlines_.erase(deadlines_.begin());
      }
      if (polling_.load()) {
        const uint64_t runs = main_thread_runs();
        if (runs % 2 == 1 && runs == seen && !sigint_armed()) {
          // The same main-thread run for a whole poll interval: worth a handler. Armed with our lock
          // let go, so that no path holds two of ortbind's locks at once (fork.hpp).
          lock.unlock();
          arm_sigint_during(runs);
          lock.lock();
        }
        idle = (runs == seen && runs % 2 == 0) ? idle + 1 : 0;
        seen = runs;
        if (idle >= kIdlePolls) polling_.store(false);
      }
      auto until = Clock::time_point::max();
      if (!deadlines_.empty()) until = deadlines_.begin()->first;
      if (polling_.load()) until = std::min(until, Clock::now() + kPoll);
      if (until == Clock::time_point::max())
        wake_.wait(lock);
      else
        wake_.wait_until(lock, until);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool running_ = false;
  std::atomic<bool> polling_{false};
  std::multimap<Clock::time_point, std::shared_ptr<TimerEntry>> deadlines_;
};

[[maybe_unused]] const int g_watchdog_forks =
    pthread_atfork([] { Watchdog::instance().before_fork(); }, [] { Watchdog::instance().after_fork_in_parent(); },
                   [] { Watchdog::instance().after_fork_in_child(); });

}  // namespace

Deadline::Deadline(StopTarget target, double seconds) : entry_(std::make_shared<TimerEntry>()) {
  entry_->target = target;
  const auto limit = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  Watchdog::instance().arm(entry_, Clock::now() + limit);
}

bool Deadline::disarm() {
  if (armed_) {
    armed_ = false;
    fired_ = Watchdog::instance().disarm(entry_);
  }
  return fired_;
}

void watch_main_thread() { Watchdog::instance().watch_main_thread(); }

}  // namespace ortbind
