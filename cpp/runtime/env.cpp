#include "runtime/env.hpp"

#include "runtime/fork.hpp"
#include "runtime/log_queue.hpp"

#include <mutex>

namespace ortbind {
namespace {

// Guards g_live_env; held while an environment is created.
std::mutex g_env_mutex;
[[maybe_unused]] const int g_env_mutex_forks = keep_across_fork<g_env_mutex>();
// Weak: an explicit Env dies with its last session and handle, so a later one may use other
// settings. The default is pinned separately.
std::weak_ptr<EnvCore> g_live_env;

}  // namespace

const char* level_name(OrtLoggingLevel level) {
  switch (level) {
    case ORT_LOGGING_LEVEL_VERBOSE:
      return "verbose";
    case ORT_LOGGING_LEVEL_INFO:
      return "info";
    case ORT_LOGGING_LEVEL_WARNING:
      return "warning";
    case ORT_LOGGING_LEVEL_ERROR:
      return "error";
    case ORT_LOGGING_LEVEL_FATAL:
      return "fatal";
  }
  return "unknown";
}

OrtLoggingLevel parse_level(const std::string& name) {
  for (auto level : {ORT_LOGGING_LEVEL_VERBOSE, ORT_LOGGING_LEVEL_INFO, ORT_LOGGING_LEVEL_WARNING,
                     ORT_LOGGING_LEVEL_ERROR, ORT_LOGGING_LEVEL_FATAL}) {
    if (name == level_name(level)) return level;
  }
  fail(Problem::Value, "log_level must be one of 'verbose', 'info', 'warning', 'error', 'fatal', not " + quoted(name));
}

bool EnvSettings::operator==(const EnvSettings& other) const {
  return log_level == other.log_level && log_id == other.log_id && global_thread_pools == other.global_thread_pools &&
         intra_op_threads == other.intra_op_threads && inter_op_threads == other.inter_op_threads;
}

std::string EnvSettings::describe() const {
  std::string text = std::string("log_level=") + quoted(level_name(log_level)) + ", log_id=" + quoted(log_id) +
                     ", global_thread_pools=" + (global_thread_pools ? "True" : "False");
  if (global_thread_pools) {
    text += ", intra_op_threads=" + std::to_string(intra_op_threads) +
            ", inter_op_threads=" + std::to_string(inter_op_threads);
  }
  return text;
}

// Every environment logs through the queue to Python's logging (log_queue.hpp), at its level.
EnvCore::EnvCore(const EnvSettings& settings) : settings_(settings), log_level_(settings.log_level) {
  if (settings.global_thread_pools) {
    Ort::ThreadingOptions threading;
    threading.SetGlobalIntraOpNumThreads(settings.intra_op_threads);
    threading.SetGlobalInterOpNumThreads(settings.inter_op_threads);
    env_ = Ort::Env(threading, queue_log_record, nullptr, settings.log_level, settings.log_id.c_str());
  } else {
    env_ = Ort::Env(settings.log_level, settings.log_id.c_str(), queue_log_record, nullptr);
  }
}

EnvSettings EnvCore::settings() const {
  EnvSettings current = settings_;
  current.log_level = log_level();
  return current;
}

void EnvCore::set_log_level(OrtLoggingLevel level) {
  check(api().UpdateEnvWithCustomLogLevel(env_, level));
  log_level_.store(level);
}

std::shared_ptr<EnvCore> acquire_env(const EnvSettings& settings) {
  std::lock_guard<std::mutex> lock(g_env_mutex);
  if (auto live = g_live_env.lock()) {
    if (live->settings() == settings) return live;
    fail(Problem::Env, "ONNX Runtime keeps one environment per process, and the live one has " +
                           live->settings().describe() + "; an Env with " + settings.describe() +
                           " can be made only after every session and Env using the live one is "
                           "gone (the default environment lives as long as the process)");
  }
  auto core = std::make_shared<EnvCore>(settings);
  g_live_env = core;
  return core;
}

std::shared_ptr<EnvCore> default_env() {
  std::lock_guard<std::mutex> lock(g_env_mutex);
  if (auto live = g_live_env.lock()) return live;
  // Held by a pointer that is never freed: the process creates its environment once, and an OrtEnv
  // torn down by static destructors at exit could run after ONNX Runtime's own statics are gone.
  static auto* pinned = new std::shared_ptr<EnvCore>(std::make_shared<EnvCore>(EnvSettings{}));
  g_live_env = *pinned;
  return *pinned;
}

}  // namespace ortbind
