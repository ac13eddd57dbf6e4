// Stopping a run: ONNX Runtime checks the terminate flag of a run's OrtRunOptions between nodes,
// so a run is stopped by setting that flag from another thread (a token, the timer) or from a
// signal handler (Ctrl-C). Each thread reuses its own OrtRunOptions, so the common call allocates
// nothing.
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
  bool fired = false;  // guarded by the timer's mutex
};

namespace {

// One thread for every time limit in the process, started on first use.
class Timer {
 public:
  static Timer& instance() {
    // Never destroyed: its thread may be waiting when the process exits.
    static Timer* timer = new Timer();
    return *timer;
  }

  void arm(const std::shared_ptr<TimerEntry>& entry, Clock::time_point deadline) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!running_) {
      std::thread([this] { loop(); }).detach();
      running_ = true;
    }
    deadlines_.emplace(deadline, entry);
    wake_.notify_one();
  }

  // After disarm returns, the timer never touches the entry's options again.
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

  // A forked child has no timer thread; the next arm starts one.
  void after_fork_in_child() {
    new (&mutex_) std::mutex();
    new (&wake_) std::condition_variable();
    running_ = false;
    deadlines_.clear();
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (deadlines_.empty()) {
        wake_.wait(lock);
        continue;
      }
      auto first = deadlines_.begin();
      if (Clock::now() < first->first) {
        wake_.wait_until(lock, first->first);
        continue;
      }
      first->second->fired = true;
      discard(api().RunOptionsSetTerminate(first->second->options));
      deadlines_.erase(first);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool running_ = false;
  std::multimap<Clock::time_point, std::shared_ptr<TimerEntry>> deadlines_;
};

// Ctrl-C during a run on the main thread: Python's own handler only sets a flag that the main
// thread checks when it next runs bytecode, which it cannot do while inside Run. For the length of
// the run, a handler of ours terminates the run and then calls Python's handler, so Python still
// sees the signal and raises KeyboardInterrupt (or runs the user's handler) once Run returns.
std::atomic<OrtRunOptions*> g_sigint_target{nullptr};
std::atomic<bool> g_sigint_seen{false};
struct sigaction g_python_sigint;

void on_sigint(int signal, siginfo_t* info, void* context) {
  g_sigint_seen.store(true);
  if (OrtRunOptions* options = g_sigint_target.load()) discard(api().RunOptionsSetTerminate(options));
  if (g_python_sigint.sa_flags & SA_SIGINFO) {
    g_python_sigint.sa_sigaction(signal, info, context);
  } else if (g_python_sigint.sa_handler != SIG_DFL && g_python_sigint.sa_handler != SIG_IGN) {
    g_python_sigint.sa_handler(signal);
  }
}

unsigned long g_main_thread = 0;

struct ThreadOptions {
  OrtRunOptions* options = nullptr;
  ThreadOptions() { check(api().CreateRunOptions(&options)); }
  ~ThreadOptions() { api().ReleaseRunOptions(options); }
};

OrtRunOptions* thread_options() {
  thread_local ThreadOptions local;
  return local.options;
}

}  // namespace

RunControl::RunControl(std::shared_ptr<CancelToken> token, double timeout_seconds)
    : options_(thread_options()),
      token_(std::move(token)),
      timeout_(timeout_seconds),
      on_main_thread_(PyThread_get_thread_ident() == g_main_thread) {}

RunControl::~RunControl() {
  // A terminated run leaves the flag set; the thread's next run must start clean.
  discard(api().RunOptionsUnsetTerminate(options_));
}

void RunControl::start() {
  if (token_ && !token_->attach(options_)) {
    token_refused_ = true;
    check(api().RunOptionsSetTerminate(options_));
  }
  if (timeout_ >= 0) {
    timer_ = std::make_shared<TimerEntry>();
    timer_->options = options_;
    const auto limit = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_));
    Timer::instance().arm(timer_, Clock::now() + limit);
  }
  if (on_main_thread_) {
    struct sigaction ours {};
    ours.sa_sigaction = on_sigint;
    ours.sa_flags = SA_SIGINFO;
    sigemptyset(&ours.sa_mask);
    struct sigaction previous {};
    g_sigint_seen.store(false);
    g_sigint_target.store(options_);
    if (sigaction(SIGINT, &ours, &previous) == 0) {
      const bool python_handles = (previous.sa_flags & SA_SIGINFO) ||
                                  (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN);
      if (python_handles) {
        g_python_sigint = previous;
        sigint_armed_ = true;
      } else {
        // Nobody in Python listens (SIG_DFL or SIG_IGN): keep the process's behaviour as it was.
        sigaction(SIGINT, &previous, nullptr);
        g_sigint_target.store(nullptr);
      }
    }
  }
}

void RunControl::stop() {
  if (sigint_armed_) {
    sigaction(SIGINT, &g_python_sigint, nullptr);
    g_sigint_target.store(nullptr);
  }
  if (timer_) timer_fired_ = Timer::instance().disarm(timer_);
  if (token_ && !token_refused_) token_->detach(options_);
}

void RunControl::raise_if_stopped() {
  if (sigint_armed_ && g_sigint_seen.load()) {
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
  pthread_atfork(nullptr, nullptr, [] { Timer::instance().after_fork_in_child(); });

  py::class_<CancelToken, std::shared_ptr<CancelToken>>(m, "CancelToken", R"doc(
Cancels runs from another thread: pass it as ``run(..., cancel=token)`` and call ``token.cancel()``.
ONNX Runtime stops between two nodes; the run raises ``ortbind.Cancelled`` and the session stays
usable. A token is cancelled for good: runs started with it later raise at once.
)doc")
      .def(py::init<>())
      .def("cancel", &CancelToken::cancel, "Stop every run using this token, now and later.")
      .def_property_readonly("cancelled", &CancelToken::cancelled);
}

}  // namespace ortbind
