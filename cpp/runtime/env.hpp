// ONNX Runtime's environment: one per process, shared by the sessions that use it.
#pragma once
#include "common.hpp"

#include <atomic>
#include <memory>

namespace ortbind {

struct EnvSettings {
  OrtLoggingLevel log_level = ORT_LOGGING_LEVEL_WARNING;
  std::string log_id = "ortbind";
  bool global_thread_pools = false;
  int intra_op_threads = 0;  // global pools only; 0 lets ONNX Runtime choose
  int inter_op_threads = 0;

  bool operator==(const EnvSettings& other) const;
  std::string describe() const;
};

// One OrtEnv. ONNX Runtime keeps a single environment per process (a second CreateEnv returns the
// first with its settings unchanged), so ortbind hands out the live one and refuses settings that
// would be silently ignored.
class EnvCore {
 public:
  explicit EnvCore(const EnvSettings& settings);
  Ort::Env& env() { return env_; }
  // Its settings, with the log level it has now.
  EnvSettings settings() const;
  OrtLoggingLevel log_level() const { return static_cast<OrtLoggingLevel>(log_level_.load()); }
  // Which records ONNX Runtime makes from now on (UpdateEnvWithCustomLogLevel); a run's own level
  // narrows it for that run, never widens it.
  void set_log_level(OrtLoggingLevel level);

 private:
  EnvSettings settings_;  // as made; the log level is log_level_'s
  std::atomic<int> log_level_;
  Ort::Env env_{nullptr};
};

// The process's live environment when its settings equal these, else a new one; EnvError when a
// live one has other settings.
std::shared_ptr<EnvCore> acquire_env(const EnvSettings& settings);
// The live environment whatever its settings, or the default one, created once and kept for the
// life of the process.
std::shared_ptr<EnvCore> default_env();

// A logging level by its name in ortbind's API ("warning"), and back (a ValueError naming the
// choices for an unknown name).
const char* level_name(OrtLoggingLevel level);
OrtLoggingLevel parse_level(const std::string& name);

// What Python sees as ortbind.Env: a handle on a shared EnvCore.
struct Env {
  std::shared_ptr<EnvCore> core;
};

}  // namespace ortbind
