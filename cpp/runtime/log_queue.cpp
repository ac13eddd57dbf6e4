#include "runtime/log_queue.hpp"

#include "runtime/fork.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <new>

namespace ortbind {
namespace {

// Enough for the verbose log of a model's creation. A full queue means the reader is stuck: new
// records are dropped (and counted), the earlier ones kept, since the start of a story explains more.
constexpr size_t kCapacity = 1 << 16;

std::mutex g_log_mutex;  // guards the queue, the count and the closed flag
[[maybe_unused]] const int g_log_mutex_forks = keep_across_fork<g_log_mutex>();
std::condition_variable g_log_ready;
// The parent's reader may have been waiting on it, and no such thread exists in the child: made anew
// there (never destroyed, since glibc's destroy waits for its waiters), as the watchdog's.
[[maybe_unused]] const int g_log_ready_forks =
    pthread_atfork(nullptr, nullptr, [] { new (&g_log_ready) std::condition_variable(); });
std::deque<LogRecord> g_queue;
uint64_t g_dropped = 0;
bool g_closed = false;

}  // namespace

void ORT_API_CALL queue_log_record(void*, OrtLoggingLevel severity, const char* category, const char* log_id,
                                   const char* code_location, const char* message) {
  LogRecord record{severity, category != nullptr ? category : "", log_id != nullptr ? log_id : "",
                   code_location != nullptr ? code_location : "", message != nullptr ? message : ""};
  {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    if (g_queue.size() >= kCapacity) {
      ++g_dropped;
      return;
    }
    g_queue.push_back(std::move(record));
  }
  g_log_ready.notify_one();
}

bool wait_for_log_records(double timeout_s) {
  std::unique_lock<std::mutex> lock(g_log_mutex);
  g_log_ready.wait_for(lock, std::chrono::duration<double>(timeout_s), [] { return !g_queue.empty() || g_closed; });
  return !g_queue.empty();
}

std::vector<LogRecord> take_log_records() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::vector<LogRecord> taken(std::make_move_iterator(g_queue.begin()), std::make_move_iterator(g_queue.end()));
  g_queue.clear();
  return taken;
}

uint64_t dropped_log_records() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  return g_dropped;
}

bool log_queue_closed() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  return g_closed;
}

void close_log_queue() {
  {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    g_closed = true;
  }
  g_log_ready.notify_all();
}

}  // namespace ortbind
