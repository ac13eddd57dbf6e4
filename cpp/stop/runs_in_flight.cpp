// Interpreter exit while other threads are inside Run (daemon threads, run_async on a session's
// pool): ONNX Runtime's static destructors would run under them. At exit every run is terminated
// and waited for. Each thread's options are registered once, when the thread first runs (a run then
// costs two atomic counts; run_options.cpp); options made for one run for the length of that run.
#include "stop/runs_in_flight.hpp"

#include "runtime/fork.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace ortbind {
namespace {

std::mutex g_registry_mutex;  // guards g_registered
[[maybe_unused]] const int g_registry_mutex_forks = keep_across_fork<g_registry_mutex>();
std::vector<OrtRunOptions*> g_registered;
std::atomic<int> g_in_flight{0};
std::atomic<bool> g_exiting{false};
std::atomic<bool> g_exit_wait_over{false};
// The thread that runs the exit hook: the one finalizing the interpreter, which is never parked.
std::atomic<std::thread::id> g_exit_thread{};

// The child starts with none in flight: the parent's runs go on in threads it does not have.
[[maybe_unused]] const int g_in_flight_forks = pthread_atfork(nullptr, nullptr, [] { g_in_flight.store(0); });

}  // namespace

void watch_at_exit(OrtRunOptions* options) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  g_registered.push_back(options);
}

void unwatch_at_exit(OrtRunOptions* options) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  for (auto it = g_registered.begin(); it != g_registered.end(); ++it) {
    if (*it == options) {
      g_registered.erase(it);
      return;
    }
  }
}

RunInFlight::RunInFlight(OrtRunOptions* own_options) : own_options_(own_options), generation_(fork_generation()) {
  if (own_options_ != nullptr) watch_at_exit(own_options_);
  g_in_flight.fetch_add(1);
}

RunInFlight::~RunInFlight() {
  if (own_options_ != nullptr) unwatch_at_exit(own_options_);
  if (generation_ == fork_generation()) g_in_flight.fetch_sub(1);
}

bool exit_has_begun() { return g_exiting.load(); }

bool exit_wait_over() { return g_exit_wait_over.load(); }

std::thread::id exit_thread() { return g_exit_thread.load(); }

void stop_runs_at_exit() {
  g_exit_thread.store(std::this_thread::get_id());
  g_exiting.store(true);
  {
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    for (OrtRunOptions* options : g_registered) discard(api().RunOptionsSetTerminate(options));
  }
  // Runs stop between two nodes; a single node that runs for long is given a few seconds.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (g_in_flight.load() > 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  g_exit_wait_over.store(true);
}

}  // namespace ortbind
