#include "session/signature.hpp"

#include "values/value.hpp"

#include <algorithm>

namespace ortbind {
namespace {

size_t lookup(PyObject* key, const py::dict& index, const std::vector<std::string>& names, const char* role) {
  if (!PyUnicode_Check(key)) {
    fail(Problem::Name, std::string(role) + " names must be str, not " + Py_TYPE(key)->tp_name + " " +
                            py::repr(key).cast<std::string>());
  }
  PyObject* found = PyDict_GetItemWithError(index.ptr(), key);
  if (found == nullptr) {
    if (PyErr_Occurred()) throw py::error_already_set();
    fail(Problem::Name, convert_module().attr("unknown_message")(role, py::handle(key), names).cast<std::string>());
  }
  return PyLong_AsSize_t(found);
}

}  // namespace

size_t Signature::input(PyObject* key) const { return lookup(key, input_index, input_names, "input"); }

size_t Signature::output(PyObject* key) const { return lookup(key, output_index, output_names, "output"); }

py::list Signature::describe(bool inputs) const {
  const auto& names = inputs ? input_names : output_names;
  const auto& types = inputs ? input_types : output_types;
  py::list result;
  for (size_t i = 0; i < (inputs ? n_model_inputs : names.size()); ++i)
    result.append(py::make_tuple(model_text(names[i]), types[i].to_python()));
  return result;
}

py::list Signature::describe_overridable() const {
  py::list result;
  for (size_t i = n_model_inputs; i < input_names.size(); ++i)
    result.append(py::make_tuple(model_text(input_names[i]), input_types[i].to_python()));
  return result;
}

Signature read_signature(const Ort::Session& session) {
  Signature s;
  Ort::AllocatorWithDefaultOptions allocator;
  const size_t n_in = session.GetInputCount();
  for (size_t i = 0; i < n_in; ++i) {
    s.input_names.emplace_back(session.GetInputNameAllocated(i, allocator).get());
    s.input_types.push_back(describe_type(session.GetInputTypeInfo(i).GetConst()));
    s.input_index[model_text(s.input_names.back())] = i;
  }
  for (size_t i = 0; i < session.GetOutputCount(); ++i) {
    s.output_names.emplace_back(session.GetOutputNameAllocated(i, allocator).get());
    s.output_types.push_back(describe_type(session.GetOutputTypeInfo(i).GetConst()));
    s.output_keys.emplace_back(model_text(s.output_names.back()));
    s.output_index[s.output_keys.back()] = i;
    s.all_keys[s.output_keys.back()] = py::none();
  }
  s.n_model_inputs = n_in;
  for (size_t i = 0; i < session.GetOverridableInitializerCount(); ++i) {
    s.input_names.emplace_back(session.GetOverridableInitializerNameAllocated(i, allocator).get());
    s.input_types.push_back(describe_type(session.GetOverridableInitializerTypeInfo(i).GetConst()));
    s.input_index[model_text(s.input_names.back())] = n_in + i;
  }
  // Pointers into the strings above: taken once every string is in place.
  for (const auto& name : s.input_names) s.input_name_ptrs.push_back(name.c_str());
  for (const auto& name : s.output_names) s.output_name_ptrs.push_back(name.c_str());
  for (const auto& name : s.output_names)
    s.output_is_input.push_back(std::find(s.input_names.begin(), s.input_names.end(), name) != s.input_names.end());
  return s;
}

}  // namespace ortbind
