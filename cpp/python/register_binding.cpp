// Binding as Python sees it: its properties, and run as a METH_FASTCALL method.
#include "python/register.hpp"

#include "python/fastcall.hpp"
#include "session/binding.hpp"
#include "session/request.hpp"

namespace ortbind {
namespace {

// An instance whose __init__ never ran (Binding.__new__) is refused, never read.
Binding& binding_of(py::handle self) { return native<Binding>(self, "ortbind.Binding"); }

constexpr const char* kNames[] = {"feeds", "timeout",   "cancel",     "adapters",
                                  "tag",   "log_level", "run_config", "profile"};
constexpr FastcallSignature kRun{"run", kNames, 8, 1, 0};

PyObject* run_fastcall(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* values[8];
  if (!parse_fastcall(kRun, kRun.count, args, nargs, kwnames, values)) return nullptr;
  return fastcall_result([&] {
    RunArguments arguments;
    arguments.timeout = values[1];
    arguments.cancel = values[2];
    arguments.adapters = values[3];
    arguments.tag = values[4];
    arguments.log_level = values[5];
    arguments.run_config = values[6];
    arguments.profile = values[7];
    return fastcall_self<Binding>(self, "ortbind.Binding").run(values[0], arguments);
  });
}

}  // namespace

void register_binding(py::module_& m) {
  py::class_<Binding> cls(
      m, "Binding",
      "Binding()\n--\n\nA session's bound path, made by Session.bind(): runs through an ONNX Runtime I/O "
      "binding kept across calls, one per thread.");
  cls.def_property_readonly(
         "inputs", [](py::handle self) { return binding_of(self).bound_inputs(); }, "The inputs bound once, by name.")
      .def_property_readonly(
          "outputs", [](py::handle self) { return binding_of(self).outputs(); },
          "The outputs each run returns, in order.")
      .def_property_readonly(
          "session", [](py::handle self) { return binding_of(self).session(); }, "The session it runs.");
  static const std::string run_doc =
      "run" + fastcall_text_signature(kRun, "", kRun.count) +
      "\n--\n\nRuns the model through the binding: feeds gives the inputs not bound once (all of them when "
      "the binding has none).";
  static PyMethodDef run_def = {"run", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(run_fastcall)),
                                METH_FASTCALL | METH_KEYWORDS, run_doc.c_str()};
  add_fastcall_method(cls, run_def);
}

}  // namespace ortbind
