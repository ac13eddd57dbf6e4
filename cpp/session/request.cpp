#include "session/request.hpp"

#include "session/session.hpp"

namespace ortbind {

RunOptions Request::run_options(bool own) const {
  RunOptions options(own || !adapters.empty());
  for (const auto& adapter : adapters) {
    check(api().RunOptionsAddActiveLoraAdapter(options.get(), adapter->get()));
    options.hold(adapter);
  }
  return options;
}

Request read_request(const Session& session, py::handle outputs, py::handle timeout, py::handle cancel,
                     py::handle adapters, py::handle contract_arg) {
  Request request;
  if (!adapters.is_none()) request.adapters = parse_adapters(adapters);
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
  read_stop_arguments(request, timeout, cancel);
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
