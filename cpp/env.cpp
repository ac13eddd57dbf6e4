#include "env.hpp"

#include "fork.hpp"

#include <mutex>

namespace ortbind {
namespace {

// Guards g_live_env; held while an environment is created.
std::mutex g_env_mutex;
[[maybe_unused]] const int g_env_mutex_forks = keep_across_fork<g_env_mutex>();
// Weak: an explicit Env dies with its last session and handle, so a later one may use other
// settings. The default is pinned separately.
std::weak_ptr<EnvCore> g_live_env;

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

}  // namespace

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

EnvCore::EnvCore(const EnvSettings& settings) : settings_(settings) {
  if (settings.global_thread_pools) {
    Ort::ThreadingOptions threading;
    threading.SetGlobalIntraOpNumThreads(settings.intra_op_threads);
    threading.SetGlobalInterOpNumThreads(settings.inter_op_threads);
    env_ = Ort::Env(threading, settings.log_level, settings.log_id.c_str());
  } else {
    env_ = Ort::Env(settings.log_level, settings.log_id.c_str());
  }
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

void bind_env(py::module_& m) {
  py::class_<Env>(
      m, "Env",
      R"doc(Env(*, log_level='warning', log_id='ortbind', global_thread_pools=False, intra_op_threads=0, inter_op_threads=0)
--

The ONNX Runtime environment (logging, optional global thread pools).

ONNX Runtime keeps one environment per process. Sessions made without ``env=`` use the live one, or
the default environment, created on first use and kept for the life of the process. An explicit
``Env`` with other settings can be made only while no other environment is alive; otherwise
``EnvError`` says which settings are live. Every session holds its environment, so an Env never
dies under a session.
)doc")
      .def(py::init([](const std::string& log_level, const std::string& log_id, bool global_thread_pools,
                       int intra_op_threads, int inter_op_threads) {
             if (!global_thread_pools && (intra_op_threads != 0 || inter_op_threads != 0)) {
               fail(Problem::Value,
                    "intra_op_threads and inter_op_threads of an Env size its global thread pools; "
                    "pass global_thread_pools=True, or give the thread counts to each Session");
             }
             EnvSettings settings{parse_level(log_level), log_id, global_thread_pools, intra_op_threads,
                                  inter_op_threads};
             py::gil_scoped_release release;
             return Env{acquire_env(settings)};
           }),
           py::kw_only(), py::arg("log_level") = "warning", py::arg("log_id") = "ortbind",
           py::arg("global_thread_pools") = false, py::arg("intra_op_threads") = 0, py::arg("inter_op_threads") = 0,
           "__init__(self, *, log_level='warning', log_id='ortbind', global_thread_pools=False, intra_op_threads=0, "
           "inter_op_threads=0)\n--\n\nThe live environment with these settings, or a new one.")
      .def_static(
          "default",
          [] {
            py::gil_scoped_release release;
            return Env{default_env()};
          },
          "default()\n--\n\nThe live environment, or the process default (created on first use).")
      .def_property_readonly(
          "log_level",
          [](py::handle e) { return level_name(native<Env>(e, "ortbind.Env").core->settings().log_level); })
      .def_property_readonly("log_id",
                             [](py::handle e) { return native<Env>(e, "ortbind.Env").core->settings().log_id; })
      .def_property_readonly(
          "global_thread_pools",
          [](py::handle e) { return native<Env>(e, "ortbind.Env").core->settings().global_thread_pools; })
      .def(
          "__eq__",
          [](py::handle a, py::handle b) {
            return py::isinstance<Env>(b) && native<Env>(a, "ortbind.Env").core == native<Env>(b, "ortbind.Env").core;
          },
          "__eq__(self, other, /)\n--\n\nWhether both are the same environment.")
      .def(
          "__hash__", [](py::handle e) { return std::hash<EnvCore*>{}(native<Env>(e, "ortbind.Env").core.get()); },
          "__hash__(self, /)\n--\n\n")
      .def(
          "__repr__",
          [](py::handle e) { return "ortbind.Env(" + native<Env>(e, "ortbind.Env").core->settings().describe() + ")"; },
          "__repr__(self, /)\n--\n\n");
}

}  // namespace ortbind
