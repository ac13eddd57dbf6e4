#include "session/request.hpp"

#include "session/session.hpp"

#include "runtime/env.hpp"
#include "runtime/features.hpp"

namespace ortbind {

namespace {

RunSettings read_settings(const RunArguments& arguments) {
  RunSettings settings;
  if (!arguments.tag.is_none()) {
    if (!py::isinstance<py::str>(arguments.tag))
      fail(Problem::Kind, std::string("tag must be a str, not ") + Py_TYPE(arguments.tag.ptr())->tp_name);
    settings.tag = arguments.tag.cast<std::string>();
  }
  if (!arguments.log_level.is_none()) {
    if (!py::isinstance<py::str>(arguments.log_level))
      fail(Problem::Kind, std::string("log_level must be a str, not ") + Py_TYPE(arguments.log_level.ptr())->tp_name);
    settings.log_level = parse_level(arguments.log_level.cast<std::string>());
  }
  if (!arguments.run_config.is_none()) {
    if (!py::hasattr(arguments.run_config, "items"))
      fail(Problem::Kind, std::string("run_config must be a mapping of config key to value, not ") +
                              Py_TYPE(arguments.run_config.ptr())->tp_name);
    for (auto pair : arguments.run_config.attr("items")()) {
      auto kv = pair.cast<py::tuple>();
      if (!py::isinstance<py::str>(kv[0]) || !py::isinstance<py::str>(kv[1]))
        fail(Problem::Kind, "run_config keys and values must be str, not " + py::repr(pair).cast<std::string>());
      settings.config.emplace_back(kv[0].cast<std::string>(), kv[1].cast<std::string>());
    }
  }
  if (!arguments.profile.is_none()) {
    require(Feature::kRunProfiling, "profile= of a run");
    if (!py::isinstance<py::str>(arguments.profile) && !py::hasattr(arguments.profile, "__fspath__"))
      fail(Problem::Kind, std::string("profile must be a path prefix (str or os.PathLike), not ") +
                              Py_TYPE(arguments.profile.ptr())->tp_name);
    settings.profile = py::module_::import("os").attr("fsdecode")(arguments.profile).cast<std::string>();
    if (settings.profile->find('\0') != std::string::npos)
      fail(Problem::Value, "the profile prefix holds a NUL character");
  }
  return settings;
}

}  // namespace

RunOptions Request::run_options(bool own) const {
  RunOptions options(own || !adapters.empty() || settings.any());
  for (const auto& adapter : adapters) {
    check(api().RunOptionsAddActiveLoraAdapter(options.get(), adapter->get()));
    options.hold(adapter);
  }
  if (settings.tag) check(api().RunOptionsSetRunTag(options.get(), settings.tag->c_str()));
  if (settings.log_level) check(api().RunOptionsSetRunLogSeverityLevel(options.get(), *settings.log_level));
  for (const auto& [key, value] : settings.config)
    check(api().AddRunConfigEntry(options.get(), key.c_str(), value.c_str()));
#if ORTBIND_HEADERS_HAVE(25)
  if (settings.profile) check(api().RunOptionsEnableProfiling(options.get(), settings.profile->c_str()));
#endif
  return options;
}

void read_run_arguments(Request& request, const RunArguments& arguments) {
  read_stop_arguments(request, arguments.timeout, arguments.cancel);
  if (!arguments.adapters.is_none()) request.adapters = parse_adapters(arguments.adapters);
  request.settings = read_settings(arguments);
}

Request read_request(const Session& session, const RunArguments& arguments) {
  Request request;
  read_run_arguments(request, arguments);
  const py::handle contract_arg = arguments.contract;
  const py::handle outputs = arguments.outputs;
  if (!contract_arg.is_none()) {
    if (!py::isinstance<Contract>(contract_arg))
      fail(Problem::Kind,
           std::string("contract must be a CompiledContract, not ") + Py_TYPE(contract_arg.ptr())->tp_name);
    request.contract = native_shared<Contract>(contract_arg, "CompiledContract");
  }
  // Held for the whole run: _set_contract may replace the session's while the GIL is released.
  if (!request.contract) request.contract = session.contract();
  if (request.contract && request.contract->owner != &session)
    fail(Problem::Value, "that contract was compiled for another session");
  request.n_outputs = session.signature().output_names.size();
  if (!outputs.is_none()) {
    if (py::isinstance<py::str>(outputs) || py::isinstance<py::bytes>(outputs))
      fail(Problem::Kind, "outputs must be a sequence of output names, not one str");
    request.requested =
        py::reinterpret_steal<py::object>(PySequence_Fast(outputs.ptr(), "outputs must be a sequence of output names"));
    if (!request.requested) throw py::error_already_set();
    request.n_outputs = static_cast<size_t>(PySequence_Fast_GET_SIZE(request.requested.ptr()));
  }
  return request;
}

void read_stop_arguments(Request& request, py::handle timeout, py::handle cancel) {
  if (!cancel.is_none()) {
    if (!py::isinstance<CancelToken>(cancel))
      fail(Problem::Kind, std::string("cancel must be a CancelToken, not ") + Py_TYPE(cancel.ptr())->tp_name);
    request.token = native_shared<CancelToken>(cancel, "ortbind.CancelToken");
  }
  if (!timeout.is_none()) {
    if (PyBool_Check(timeout.ptr()) || !(PyFloat_Check(timeout.ptr()) || PyLong_Check(timeout.ptr())))
      fail(Problem::Kind, std::string("timeout must be a number of seconds, not ") + Py_TYPE(timeout.ptr())->tp_name);
    request.timeout = timeout.cast<double>();
    if (!(request.timeout >= 0.0 && request.timeout < 1e9))
      fail(Problem::Value, "timeout must be a number of seconds >= 0, not " + py::repr(timeout).cast<std::string>());
  }
}

}  // namespace ortbind
