// ortbind.Env: the process's ONNX Runtime environment as Python sees it.
#include "python/register.hpp"

#include "runtime/env.hpp"
#include "stop/gil_released.hpp"

namespace ortbind {
namespace {

Env make_env(const std::string& log_level, const std::string& log_id, bool global_thread_pools, int intra_op_threads,
             int inter_op_threads) {
  if (!global_thread_pools && (intra_op_threads != 0 || inter_op_threads != 0)) {
    fail(Problem::Value,
         "intra_op_threads and inter_op_threads of an Env size its global thread pools; "
         "pass global_thread_pools=True, or give the thread counts to each Session");
  }
  EnvSettings settings{parse_level(log_level), log_id, global_thread_pools, intra_op_threads, inter_op_threads};
  py::gil_scoped_release release;
  return Env{acquire_env(settings)};
}

}  // namespace

void register_env(py::module_& m) {
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
      .def(py::init(&make_env), py::kw_only(), py::arg("log_level") = "warning", py::arg("log_id") = "ortbind",
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
      .def_property_readonly("log_level",
                             [](py::handle e) { return level_name(native<Env>(e, "ortbind.Env").core->log_level()); })
      .def(
          "set_log_level",
          [](py::handle e, const std::string& level) {
            native<Env>(e, "ortbind.Env").core->set_log_level(parse_level(level));
          },
          py::arg("level"),
          "set_log_level(self, level)\n--\n\nWhich records ONNX Runtime logs from now on ('verbose', 'info', "
          "'warning', "
          "'error', 'fatal'), for every session of this environment; a run's log_level narrows it for that run.")
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
