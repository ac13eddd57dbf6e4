// The exception hierarchy: ortbind.Error at the root, one class per OrtErrorCode (so a caller can
// catch exactly what ONNX Runtime reported), and ortbind's own validation errors, each also
// deriving from the builtin a Python user would try first (ValueError, TypeError, KeyError).
#include "python/register.hpp"

#include <array>
#include <vector>

namespace ortbind {
namespace {

struct CodeClass {
  OrtErrorCode code;
  const char* name;       // Python class name
  const char* code_name;  // ONNX Runtime's own name for the code, for messages and .code_name
  PyObject* builtin;      // a second base, or nullptr
};

// The codes up to ORT 1.32 (the numbers are stable across releases; 1.21's headers name only those
// up to ORT_EP_FAIL); a still newer runtime's unknown code maps to the base class with its number kept.
const std::array<CodeClass, 16> kCodeClasses{{
    {ORT_FAIL, "Fail", "ORT_FAIL", nullptr},
    {ORT_INVALID_ARGUMENT, "InvalidArgument", "ORT_INVALID_ARGUMENT", PyExc_ValueError},
    {ORT_NO_SUCHFILE, "NoSuchFile", "ORT_NO_SUCHFILE", PyExc_FileNotFoundError},
    {ORT_NO_MODEL, "NoModel", "ORT_NO_MODEL", nullptr},
    {ORT_ENGINE_ERROR, "EngineError", "ORT_ENGINE_ERROR", nullptr},
    {ORT_RUNTIME_EXCEPTION, "RuntimeException", "ORT_RUNTIME_EXCEPTION", nullptr},
    {ORT_INVALID_PROTOBUF, "InvalidProtobuf", "ORT_INVALID_PROTOBUF", PyExc_ValueError},
    {ORT_MODEL_LOADED, "ModelLoaded", "ORT_MODEL_LOADED", nullptr},
    {ORT_NOT_IMPLEMENTED, "NotImplementedInRuntime", "ORT_NOT_IMPLEMENTED", PyExc_NotImplementedError},
    {ORT_INVALID_GRAPH, "InvalidGraph", "ORT_INVALID_GRAPH", PyExc_ValueError},
    {ORT_EP_FAIL, "EPFail", "ORT_EP_FAIL", nullptr},
    {static_cast<OrtErrorCode>(12), "ModelLoadCanceled", "ORT_MODEL_LOAD_CANCELED", nullptr},
    {static_cast<OrtErrorCode>(13), "ModelRequiresCompilation", "ORT_MODEL_REQUIRES_COMPILATION", nullptr},
    {static_cast<OrtErrorCode>(14), "NotFound", "ORT_NOT_FOUND", nullptr},
    {static_cast<OrtErrorCode>(15), "DeviceReset", "ORT_DEVICE_RESET", nullptr},
    {static_cast<OrtErrorCode>(0), nullptr, nullptr, nullptr},
}};

// Class objects live as long as the process: the module is never unloaded, and exceptions raised
// during interpreter teardown must still find their class.
PyObject* g_base = nullptr;
std::vector<std::pair<OrtErrorCode, PyObject*>> g_code_classes;
std::array<PyObject*, 9> g_problem_classes{};

PyObject* make_class(py::module_& m, const char* name, std::vector<PyObject*> bases, const char* doc,
                     bool plain_str = false) {
  py::tuple base_tuple(bases.size());
  for (size_t i = 0; i < bases.size(); ++i) base_tuple[i] = py::reinterpret_borrow<py::object>(bases[i]);
  py::dict attrs;
  attrs["__doc__"] = doc;
  // KeyError's str() is the repr of its key; our messages are sentences, so show them as they are.
  if (plain_str) attrs["__str__"] = py::handle(PyExc_BaseException).attr("__str__");
  const std::string qualified = std::string("ortbind.") + name;
  PyObject* cls = PyErr_NewException(qualified.c_str(), base_tuple.ptr(), attrs.ptr());
  if (cls == nullptr) throw py::error_already_set();
  m.add_object(name, py::reinterpret_borrow<py::object>(cls));
  return cls;
}

PyObject* class_for_code(OrtErrorCode code) {
  for (const auto& [c, cls] : g_code_classes)
    if (c == code) return cls;
  return g_base;
}

void set_ort_error(OrtErrorCode code, const char* message) {
  PyObject* cls = class_for_code(code);
  py::object exc = py::reinterpret_steal<py::object>(PyObject_CallOneArg(cls, message_text(message).ptr()));
  if (!exc) return;  // the call set its own error
  // The code travels with the instance even when it fell back to the base class.
  PyObject_SetAttrString(exc.ptr(), "code", py::int_(static_cast<int>(code)).ptr());
  PyErr_SetObject(cls, exc.ptr());
}

}  // namespace

void register_errors(py::module_& m) {
  g_base = make_class(m, "Error", {PyExc_Exception},
                      "Base of every ortbind error. Errors reported by ONNX Runtime carry its "
                      "error code in .code.");
  PyObject_SetAttrString(g_base, "code", py::none().ptr());

  for (const auto& entry : kCodeClasses) {
    if (entry.name == nullptr) break;
    std::vector<PyObject*> bases{g_base};
    if (entry.builtin != nullptr) bases.push_back(entry.builtin);
    const std::string doc = std::string("ONNX Runtime reported ") + entry.code_name + ".";
    PyObject* cls = make_class(m, entry.name, bases, doc.c_str());
    // Their public home is ortbind.errors (the top level keeps ortbind's own errors).
    PyObject_SetAttrString(cls, "__module__", py::str("ortbind.errors").ptr());
    PyObject_SetAttrString(cls, "code", py::int_(static_cast<int>(entry.code)).ptr());
    PyObject_SetAttrString(cls, "code_name", py::str(entry.code_name).ptr());
    g_code_classes.emplace_back(entry.code, cls);
  }

  PyObject* validation =
      make_class(m, "ValidationError", {g_base}, "ortbind refused the call before ONNX Runtime saw it.");
  auto at = [](Problem p) -> PyObject*& { return g_problem_classes[static_cast<size_t>(p)]; };
  at(Problem::Shape) = make_class(m, "ShapeError", {validation, PyExc_ValueError},
                                  "A shape does not match the model's or the contract's.");
  at(Problem::DType) = make_class(m, "DTypeError", {validation, PyExc_TypeError},
                                  "An element type does not match; ortbind never casts silently.");
  at(Problem::Kind) = make_class(m, "KindError", {validation, PyExc_TypeError},
                                 "A value of the wrong kind (tensor, sequence, map, optional).");
  at(Problem::Name) = make_class(m, "NameMismatchError", {validation, PyExc_KeyError},
                                 "A name that does not match the model's: an unknown, missing or repeated input, "
                                 "output or contract dim.",
                                 true);
  // The class's name until 0.1.0, when it was raised for output names and dims all the same.
  m.attr("InputNameError") = py::handle(at(Problem::Name));
  at(Problem::Value) = make_class(m, "InvalidValueError", {validation, PyExc_ValueError},
                                  "A value that cannot be given to ONNX Runtime as it is.");
  at(Problem::Closed) = make_class(m, "ClosedError", {g_base, PyExc_ValueError}, "The session was closed.");
  at(Problem::Cancelled) = make_class(m, "Cancelled", {g_base}, "The run was cancelled before it finished.");
  at(Problem::Timeout) = make_class(m, "RunTimeout", {at(Problem::Cancelled), PyExc_TimeoutError},
                                    "The run was cancelled when its time limit passed.");
  at(Problem::Env) = make_class(m, "EnvError", {g_base, PyExc_RuntimeError},
                                "The requested environment conflicts with the process's live one.");
  // Raised after the run by collect() (session/results.cpp), with the complete results attached,
  // so a late shape mismatch loses no work.
  make_class(m, "OutputShapeError", {at(Problem::Shape)},
             "An output's shape broke the contract; the computed results are in .result.");

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const OrtError& e) {
      set_ort_error(e.code(), e.what());
    } catch (const Ort::Exception& e) {
      set_ort_error(e.GetOrtErrorCode(), e.what());
    } catch (const ValidationError& e) {
      PyErr_SetObject(g_problem_classes[static_cast<size_t>(e.problem())], message_text(e.what()).ptr());
    }
  });
}

}  // namespace ortbind
