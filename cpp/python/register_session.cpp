// Session as Python sees it: the class, its methods with their text signatures, and run as a
// METH_FASTCALL method with its own argument parser; the session options table.
#include "python/register.hpp"

#include "python/fastcall.hpp"
#include "session/binding.hpp"
#include "session/session.hpp"

namespace ortbind {
namespace {

Session& session_of(py::handle self) { return native<Session>(self, "ortbind.Session"); }

// run(feeds, outputs=None, *, out=None, timeout=None, cancel=None, adapters=None, tag=None,
// log_level=None, run_config=None, profile=None, contract=None), written once: the parser and the
// docstring's text signature both come from this table.
constexpr const char* kNames[] = {"feeds", "outputs",   "out",        "timeout", "cancel",  "adapters",
                                  "tag",   "log_level", "run_config", "profile", "contract"};
constexpr FastcallSignature kRun{"run", kNames, 11, 2, 1};
constexpr Py_ssize_t kContract = 10;

// The run's arguments past the feeds and out=, from the parsed values in kNames' order.
RunArguments run_arguments(PyObject* const* values) {
  RunArguments arguments;
  arguments.outputs = values[1];
  arguments.timeout = values[3];
  arguments.cancel = values[4];
  arguments.adapters = values[5];
  arguments.tag = values[6];
  arguments.log_level = values[7];
  arguments.run_config = values[8];
  arguments.profile = values[9];
  arguments.contract = values[10];
  return arguments;
}

// The one parser of run's arguments; `contract`, when given, is the contract of a CheckedSession
// (then the keyword is not accepted).
PyObject* parse_and_run(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                        PyObject* contract) {
  PyObject* values[11];
  const Py_ssize_t count = contract != nullptr ? kContract : kRun.count;
  if (!parse_fastcall(kRun, count, args, nargs, kwnames, values)) return nullptr;
  if (contract != nullptr) values[kContract] = contract;
  return fastcall_result([&] {
    Session& session = fastcall_self<Session>(self, "ortbind.Session");
    return session.run(values[0], values[2], run_arguments(values));
  });
}

PyObject* run_fastcall(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return parse_and_run(self, args, nargs, kwnames, nullptr);
}

// CheckedSession.run is functools.partial(session._run_under, contract): the contract travels as a
// leading positional argument, which partial prepends without building a keyword dict per call.
PyObject* run_under_fastcall(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  if (nargs < 1) {
    PyErr_SetString(PyExc_TypeError, "_run_under() missing required argument 'compiled'");
    return nullptr;
  }
  return parse_and_run(self, args + 1, nargs - 1, kwnames, args[0]);
}

}  // namespace

namespace {

// Making, closing and describing a session.
void register_lifecycle(py::class_<Session>& cls) {
  cls.def(py::init(
              [](py::handle model, py::handle env, py::handle timeout, py::handle cancel, const py::kwargs& options) {
                return std::make_unique<Session>(model, env, timeout, cancel, options);
              }),
          py::arg("model"), py::kw_only(), py::arg("env") = py::none(), py::arg("timeout") = py::none(),
          py::arg("cancel") = py::none(),
          "__init__(self, model, *, env=None, timeout=None, cancel=None, **options)\n--\n\n"
          "Loads the model (a path or bytes-like) with the GIL released; options as in SESSION_OPTIONS. timeout "
          "(seconds), cancel (a CancelToken) and Ctrl-C stop the loading.")
      .def(
          "close", [](py::handle self) { session_of(self).close(); },
          "close(self)\n--\n\nReleases the session once its runs in flight are over; later runs raise ClosedError.")
      .def_property_readonly("closed", [](py::handle self) { return session_of(self).closed(); })
      .def_property_readonly("env", [](py::handle self) { return session_of(self).env(); })
      .def(
          "end_profiling", [](py::handle self) { return session_of(self).end_profiling(); },
          "end_profiling(self)\n--\n\nEnds ONNX Runtime's profiler and returns the path of the JSON file it wrote.")
      .def_property_readonly("profiling_start_ns",
                             [](py::handle self) { return session_of(self).profiling_start_ns(); });
}

void register_introspection(py::class_<Session>& cls) {
  cls.def(
         "_describe", [](py::handle self, bool inputs) { return session_of(self).describe(inputs); }, py::arg("inputs"),
         "_describe(self, inputs)\n--\n\n(name, type) of each input or output.")
      .def(
          "_describe_overridable", [](py::handle self) { return session_of(self).describe_overridable(); },
          "_describe_overridable(self)\n--\n\n(name, type) of each overridable initializer.")
      .def(
          "_metadata", [](py::handle self) { return session_of(self).metadata(); },
          "_metadata(self)\n--\n\nThe model's metadata as a dict.")
      .def(
          "_check_feeds",
          [](py::handle self, py::handle feeds, py::handle contract) {
            return session_of(self).check_feeds(feeds, contract);
          },
          py::arg("feeds"), py::arg("contract") = py::none(),
          "_check_feeds(self, feeds, contract=None)\n--\n\n"
          "The feeds as run() would give them to ONNX Runtime, checked and converted, without running: the arrays "
          "in input order, None for inputs left out.")
      .def(
          "_set_contract",
          [](py::handle self, py::handle contract) {
            session_of(self).set_contract(contract.is_none() ? nullptr
                                                             : native_shared<Contract>(contract, "CompiledContract"));
          },
          "_set_contract(self, contract)\n--\n\nThe contract every run checks unless given another.")
      .def(
          "_compile_contract",
          [](py::handle self, py::sequence inputs, py::sequence outputs, py::sequence symbols,
             py::sequence check_computed) {
            return session_of(self).compile(inputs, outputs, symbols, check_computed);
          },
          py::arg("inputs"), py::arg("outputs"), py::arg("symbols"), py::arg("check_computed"),
          "_compile_contract(self, inputs, outputs, symbols, check_computed)\n--\n\n"
          "A CompiledContract for this session (see ortbind.contracts).");
}

// The run paths: run and _run_under (METH_FASTCALL), bind, _run_async.
void register_runs(py::class_<Session>& cls) {
  cls.def(
         "bind",
         [](py::handle self, py::handle outputs, py::handle out, py::handle inputs, py::handle contract) {
           return std::make_unique<Binding>(self, outputs, out, inputs, contract);
         },
         py::arg("outputs") = py::none(), py::kw_only(), py::arg("out") = py::none(), py::arg("inputs") = py::none(),
         py::arg("contract") = py::none(),
         "bind(self, outputs=None, *, out=None, inputs=None, contract=None)\n--\n\n"
         "A Binding: the bound path for repeated runs (inputs bound once to arrays refilled in place, outputs "
         "preallocated or left to ONNX Runtime).")
      .def(
          "_run_async",
          [](py::object self, py::handle feeds, py::handle outputs, py::handle timeout, py::handle cancel,
             py::handle adapters, py::handle tag, py::handle log_level, py::handle run_config, py::handle profile,
             py::handle contract, py::handle callback) {
            const RunArguments arguments{outputs,   timeout,    cancel,  adapters, tag,
                                         log_level, run_config, profile, contract};
            session_of(self).run_async(self, feeds, arguments, callback);
          },
          py::arg("feeds"), py::arg("outputs") = py::none(), py::kw_only(), py::arg("timeout") = py::none(),
          py::arg("cancel") = py::none(), py::arg("adapters") = py::none(), py::arg("tag") = py::none(),
          py::arg("log_level") = py::none(), py::arg("run_config") = py::none(), py::arg("profile") = py::none(),
          py::arg("contract") = py::none(), py::arg("callback"),
          "_run_async(self, feeds, outputs=None, *, timeout=None, cancel=None, adapters=None, tag=None, "
          "log_level=None, run_config=None, profile=None, contract=None, callback)\n--\n\n"
          "Starts the run on one of ONNX Runtime's threads; callback(result, error, session) gets its end.")
      .def(
          "node_assignment", [](py::handle self) { return session_of(self).node_assignment(); },
          "node_assignment(self)\n--\n\n"
          "Which execution provider runs each node: (provider, [(node, op_type, domain), ...]) per subgraph.");
  static const std::string run_doc = "run" + fastcall_text_signature(kRun, "", kRun.count) +
                                     "\n--\n\nRuns the model: feeds maps input names to values; outputs names "
                                     "the outputs wanted, in order.";
  static const std::string run_under_doc = "_run_under" + fastcall_text_signature(kRun, ", compiled", kContract) +
                                           "\n--\n\nrun(...) under a compiled contract given first.";
  static PyMethodDef run_defs[] = {
      {"run", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(run_fastcall)), METH_FASTCALL | METH_KEYWORDS,
       run_doc.c_str()},
      {"_run_under", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(run_under_fastcall)),
       METH_FASTCALL | METH_KEYWORDS, run_under_doc.c_str()},
  };
  for (PyMethodDef& def : run_defs) add_fastcall_method(cls, def);
}

}  // namespace

void register_session(py::module_& m) {
  m.def(
      "_set_result_type",
      [](py::handle type) {
        if (!PyType_Check(type.ptr()) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(type.ptr()), &PyDict_Type))
          fail(Problem::Kind, "the result type must be a dict subclass");
        set_result_type(reinterpret_cast<PyTypeObject*>(type.ptr()));
      },
      "_set_result_type(type)\n--\n\nThe dict subclass that runs return (ortbind.Result).");

  // (name, default, type, doc) per option Session() takes (session/config.cpp).
  m.attr("SESSION_OPTIONS") = session_options_table();

  py::class_<Session> cls(m, "Session", py::dynamic_attr(),
                          "Session(model, *, env=None, **options)\n--\n\n"
                          "The native session; use ortbind.Session.");
  register_lifecycle(cls);
  register_introspection(cls);
  register_runs(cls);
}

}  // namespace ortbind
