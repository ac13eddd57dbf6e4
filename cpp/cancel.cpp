// Stopping a run: ONNX Runtime checks the terminate flag of a run's OrtRunOptions between nodes,
// so a run is stopped by setting that flag from another thread (a token, the watchdog's time limit)
// or from a signal handler (Ctrl-C). Each thread reuses its own OrtRunOptions, so the common call
// allocates nothing and makes no system call.
#include "cancel.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <map>
#include <thread>

#include <pthread.h>

namespace ortbind {

void CancelToken::cancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancelled_ = true;
  for (OrtRunOptions* options : running_) check(api().RunOptionsSetTerminate(options));
}

bool CancelToken::cancelled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cancelled_;
}

bool CancelToken::attach(OrtRunOptions* options) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (cancelled_) return false;
  running_.push_back(options);
  return true;
}

void CancelToken::detach(OrtRunOptions* options) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if (*it == options) {
      running_.erase(it);
      return;
    }
  }
}

using Clock = std::chrono::steady_clock;

struct TimerEntry {
  OrtRunOptions* options;
  bool fired = false;  // guarded by the watchdog's mutex
};

namespace {

// Ctrl-C during a run on the main thread. Python's own SIGINT handler only sets a flag that the
// main thread checks when it next runs bytecode, which it cannot do while inside Run. Installing a
// handler of ours around every run would cost two system calls per call, so the watchdog installs it
// only once a main-thread run has lasted a poll interval or two: short runs pay nothing, and a Ctrl-C
// then lands when they return. Ours terminates the run and then calls the handler it replaced, so
// Python still sees the signal (KeyboardInterrupt, or the user's handler, once Run returns).
std::atomic<OrtRunOptions*> g_main_options{nullptr};
std::atomic<uint64_t> g_main_runs{0};  // odd while a main-thread run is in flight
std::atomic<bool> g_sigint_seen{false};
std::atomic<bool> g_armed{false};
std::mutex g_arm_mutex;  // arming and disarming, which may race between the watchdog and the run
struct sigaction g_replaced;

void on_sigint(int signal, siginfo_t* info, void* context) {
  if (OrtRunOptions* options = g_main_options.load()) {
    g_sigint_seen.store(true);
    discard(api().RunOptionsSetTerminate(options));
  }
  if (g_replaced.sa_flags & SA_SIGINFO) {
    g_replaced.sa_sigaction(signal, info, context);
  } else if (g_replaced.sa_handler != SIG_DFL && g_replaced.sa_handler != SIG_IGN) {
    g_replaced.sa_handler(signal);
  }
}

bool handler_is(const struct sigaction& action) {
  return (action.sa_flags & SA_SIGINFO) && action.sa_sigaction == on_sigint;
}

// Called with g_arm_mutex held.
void arm_sigint() {
  struct sigaction current {};
  if (sigaction(SIGINT, nullptr, &current) != 0 || handler_is(current)) return;
  // Only where Python (or the user) handles SIGINT: SIG_DFL and SIG_IGN keep their meaning.
  const bool handled = (current.sa_flags & SA_SIGINFO) || (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN);
  if (!handled) return;
  g_replaced = current;
  struct sigaction ours {};
  ours.sa_sigaction = on_sigint;
  ours.sa_flags = SA_SIGINFO | (current.sa_flags & SA_RESTART);
  ours.sa_mask = current.sa_mask;
  if (sigaction(SIGINT, &ours, nullptr) == 0) g_armed.store(true);
}

// Called with g_arm_mutex held. Puts back the replaced handler unless someone replaced ours since.
void disarm_sigint() {
  if (!g_armed.load()) return;
  struct sigaction current {};
  if (sigaction(SIGINT, nullptr, &current) == 0 && handler_is(current)) sigaction(SIGINT, &g_replaced, nullptr);
  g_armed.store(false);
}

// One thread for the whole process: time limits, and arming Ctrl-C for long main-thread runs.
// Started on first need; it polls only while main-thread runs come, and otherwise sleeps.
class Watchdog {
 public:
  static Watchdog& instance() {
    // Never destroyed: its thread may be waiting when the process exits.
    static Watchdog* watchdog = new Watchdog();
    return *watchdog;
  }

  void arm(const std::shared_ptr<TimerEntry>& entry, Clock::time_point deadline) {
    std::lock_guard<std::mutex> lock(mutex_);
    start_locked();
    deadlines_.emplace(deadline, entry);
    wake_.notify_one();
  }

  // After disarm returns, the watchdog never touches the entry's options again.
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

  // A main-thread run began: make sure someone is watching (cheap when the watchdog already polls).
  void watch_main_thread() {
    if (polling_.load(std::memory_order_relaxed)) return;
    std::lock_guard<std::mutex> lock(mutex_);
    start_locked();
    polling_.store(true);
    wake_.notify_one();
  }

  // A forked child has no watchdog thread; the next need starts one.
  void after_fork_in_child() {
    new (&mutex_) std::mutex();
    new (&wake_) std::condition_variable();
    running_ = false;
    polling_.store(false);
    deadlines_.clear();
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
        discard(api().RunOptionsSetTerminate(entry->options));
        deadlines_.erase(deadlines_.begin());
      }
      if (polling_.load()) {
        const uint64_t runs = g_main_runs.load();
        if (runs % 2 == 1 && runs == seen && !g_armed.load()) {
          // The same main-thread run for a whole poll interval: worth a handler.
          std::lock_guard<std::mutex> arm_lock(g_arm_mutex);
          if (g_main_runs.load() == runs) arm_sigint();
        }
        idle = (runs == seen && runs % 2 == 0) ? idle + 1 : 0;
        seen = runs;
        if (idle >= kIdlePolls) polling_.store(false);
      }
      auto until = Clock::time_point::max();
      if (!deadlines_.empty()) until = deadlines_.begin()->first;
      if (polling_.load()) until = std::min(until, Clock::now() + kPoll);
      if (until == Clock::time_point::max()) wake_.wait(lock);
      else wake_.wait_until(lock, until);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool running_ = false;
  std::atomic<bool> polling_{false};
  std::multimap<Clock::time_point, std::shared_ptr<TimerEntry>> deadlines_;
};

unsigned long g_main_thread = 0;

// Interpreter exit while other threads are inside Run (daemon threads): ONNX Runtime's static
// destructors would run under them. At exit every thread's run is terminated and waited for, so
// no thread is inside the runtime when the process tears it down. Each thread's options are
// registered once, when the thread first runs (a run then costs two atomic counts); run_async's
// options are registered for the length of their run.
std::mutex g_threads_mutex;
std::vector<OrtRunOptions*> g_thread_options;
std::atomic<int> g_in_flight{0};
std::atomic<bool> g_exiting{false};

struct ThreadOptions {
  OrtRunOptions* options = nullptr;
  ThreadOptions() {
    check(api().CreateRunOptions(&options));
    std::lock_guard<std::mutex> lock(g_threads_mutex);
    g_thread_options.push_back(options);
  }
  ~ThreadOptions() {
    {
      std::lock_guard<std::mutex> lock(g_threads_mutex);
      for (auto it = g_thread_options.begin(); it != g_thread_options.end(); ++it) {
        if (*it == options) {
          g_thread_options.erase(it);
          break;
        }
      }
    }
    api().ReleaseRunOptions(options);
  }
};

// Called once, at interpreter exit (atexit), with the GIL released.
void stop_runs_at_exit() {
  g_exiting.store(true);
  {
    std::lock_guard<std::mutex> lock(g_threads_mutex);
    for (OrtRunOptions* options : g_thread_options) discard(api().RunOptionsSetTerminate(options));
  }
  // Runs stop between two nodes; a single node that runs for long is given a few seconds.
  const auto give_up = Clock::now() + std::chrono::seconds(5);
  while (g_in_flight.load() > 0 && Clock::now() < give_up) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

OrtRunOptions* thread_options() {
  thread_local ThreadOptions local;
  return local.options;
}

}  // namespace

std::shared_ptr<TimerEntry> arm_timer(OrtRunOptions* options, double seconds) {
  auto entry = std::make_shared<TimerEntry>();
  entry->options = options;
  const auto limit = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  Watchdog::instance().arm(entry, Clock::now() + limit);
  return entry;
}

bool disarm_timer(const std::shared_ptr<TimerEntry>& entry) { return Watchdog::instance().disarm(entry); }

void count_run(int change, OrtRunOptions* options) {
  if (options != nullptr) {
    std::lock_guard<std::mutex> lock(g_threads_mutex);
    if (change > 0) {
      g_thread_options.push_back(options);
    } else {
      for (auto it = g_thread_options.begin(); it != g_thread_options.end(); ++it) {
        if (*it == options) {
          g_thread_options.erase(it);
          break;
        }
      }
    }
  }
  g_in_flight.fetch_add(change);
}

RunControl::RunControl(std::shared_ptr<CancelToken> token, double timeout_seconds)
    : options_(thread_options()),
      token_(std::move(token)),
      timeout_(timeout_seconds),
      on_main_thread_(PyThread_get_thread_ident() == g_main_thread) {}

RunControl::~RunControl() {
  // A terminated run leaves the flag set; the thread's next run must start clean.
  if (stopped_by_us_) discard(api().RunOptionsUnsetTerminate(options_));
}

void RunControl::start() {
  g_in_flight.fetch_add(1);
  if (g_exiting.load(std::memory_order_relaxed)) {
    stopped_by_us_ = true;
    discard(api().RunOptionsSetTerminate(options_));
  }
  if (token_) {
    stopped_by_us_ = true;
    if (!token_->attach(options_)) {
      token_refused_ = true;
      check(api().RunOptionsSetTerminate(options_));
    }
  }
  if (timeout_ >= 0) {
    stopped_by_us_ = true;
    timer_ = arm_timer(options_, timeout_);
  }
  if (on_main_thread_) {
    g_sigint_seen.store(false);
    g_main_options.store(options_);
    g_main_runs.fetch_add(1);
    Watchdog::instance().watch_main_thread();
  }
}

void RunControl::stop() {
  if (on_main_thread_) {
    g_main_options.store(nullptr);
    g_main_runs.fetch_add(1);
    if (g_armed.load()) {
      std::lock_guard<std::mutex> lock(g_arm_mutex);
      disarm_sigint();
    }
    if (g_sigint_seen.load()) stopped_by_us_ = true;
  }
  if (timer_) timer_fired_ = disarm_timer(timer_);
  if (token_ && !token_refused_) token_->detach(options_);
  g_in_flight.fetch_sub(1);
}

void RunControl::raise_if_stopped() {
  if (on_main_thread_ && g_sigint_seen.load()) {
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
  g_main_thread = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  pthread_atfork(nullptr, nullptr, [] { Watchdog::instance().after_fork_in_child(); });
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
      .def("cancel", [](py::handle self) { made<CancelToken>(self, "ortbind.CancelToken").cancel(); },
           "cancel(self)\n--\n\nStop every run using this token, now and later.")
      .def_property_readonly("cancelled",
                             [](py::handle self) { return made<CancelToken>(self, "ortbind.CancelToken").cancelled(); });
}

}  // namespace ortbind
