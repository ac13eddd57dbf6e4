// Ctrl-C during a run on the main thread. Python's own SIGINT handler only sets a flag that the main
// thread checks when it next runs bytecode, which it cannot do while inside Run. Installing a
// handler of ours around every run would cost two system calls per call, so the watchdog installs it
// only once a main-thread run has lasted a poll interval or two: short runs pay nothing, and a Ctrl-C
// then lands when they return. Ours terminates the run and then calls the handler it replaced, so
// Python still sees the signal (KeyboardInterrupt, or the user's handler, once Run returns).
#include "stop/sigint.hpp"

#include "runtime/fork.hpp"

#include <atomic>
#include <csignal>
#include <mutex>

namespace ortbind {
namespace {

unsigned long g_main_thread = 0;
std::atomic<const StopTarget*> g_main_target{nullptr};
std::atomic<uint64_t> g_main_runs{0};  // odd while a main-thread run is in flight
std::atomic<bool> g_sigint_seen{false};
std::atomic<bool> g_armed{false};
// Arming and disarming, which may race between the watchdog and the run.
std::mutex g_arm_mutex;
[[maybe_unused]] const int g_arm_mutex_forks = keep_across_fork<g_arm_mutex>();
struct sigaction g_replaced;

void on_sigint(int signal, siginfo_t* info, void* context) {
  if (const StopTarget* target = g_main_target.load()) {
    g_sigint_seen.store(true);
    target->stop();
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
  struct sigaction current{};
  if (sigaction(SIGINT, nullptr, &current) != 0 || handler_is(current)) return;
  // Only where Python (or the user) handles SIGINT: SIG_DFL and SIG_IGN keep their meaning.
  const bool handled =
      (current.sa_flags & SA_SIGINFO) || (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN);
  if (!handled) return;
  g_replaced = current;
  struct sigaction ours{};
  ours.sa_sigaction = on_sigint;
  ours.sa_flags = SA_SIGINFO | (current.sa_flags & SA_RESTART);
  ours.sa_mask = current.sa_mask;
  if (sigaction(SIGINT, &ours, nullptr) == 0) g_armed.store(true);
}

// Called with g_arm_mutex held. Puts back the replaced handler unless someone replaced ours since.
void disarm_sigint() {
  if (!g_armed.load()) return;
  struct sigaction current{};
  if (sigaction(SIGINT, nullptr, &current) == 0 && handler_is(current)) sigaction(SIGINT, &g_replaced, nullptr);
  g_armed.store(false);
}

}  // namespace

void set_main_thread(unsigned long ident) { g_main_thread = ident; }

bool on_main_thread() { return PyThread_get_thread_ident() == g_main_thread; }

CtrlCWatch::CtrlCWatch(StopTarget target) : target_(target) {
  g_sigint_seen.store(false);
  g_main_target.store(&target_);
  g_main_runs.fetch_add(1);
}

bool CtrlCWatch::end() {
  if (!watching_) return interrupted_;
  watching_ = false;
  g_main_target.store(nullptr);
  g_main_runs.fetch_add(1);
  if (g_armed.load()) {
    std::lock_guard<std::mutex> lock(g_arm_mutex);
    disarm_sigint();
  }
  // Read once the handler can no longer reach the options.
  interrupted_ = g_sigint_seen.load();
  return interrupted_;
}

uint64_t main_thread_runs() { return g_main_runs.load(); }

bool sigint_armed() { return g_armed.load(); }

void arm_sigint_during(uint64_t runs) {
  std::lock_guard<std::mutex> lock(g_arm_mutex);
  if (g_main_runs.load() == runs) arm_sigint();
}

}  // namespace ortbind
