// A session's signature, read once when it is made: its inputs (then its overridable initializers,
// which runs may feed by name like inputs), its outputs, their declared types, and the Python
// objects runs look names up in and key results by.
#pragma once
#include "common.hpp"

#include "values/value_type.hpp"

#include <string>
#include <vector>

namespace ortbind {

struct Signature {
  // The model's inputs, then its overridable initializers (fed by name like inputs, never missing).
  std::vector<std::string> input_names, output_names;
  size_t n_model_inputs = 0;
  std::vector<const char*> input_name_ptrs, output_name_ptrs;  // into the names above
  std::vector<ValueType> input_types, output_types;
  // Per output: named like an input (a graph input listed as an output, or an overridable
  // initializer). A run that feeds it returns the feed's own OrtValue, over the caller's buffer.
  std::vector<char> output_is_input;
  py::dict input_index, output_index;  // name -> position, looked up with the caller's str
  std::vector<py::str> output_keys;    // the result's keys, made once
  py::dict all_keys;                   // every output's key in the model's order, values None

  // The position of a name given by the caller (a str); NameMismatchError naming the choices.
  size_t input(PyObject* key) const;
  size_t output(PyObject* key) const;
  // (name, type) of each model input or output, or of each overridable initializer.
  py::list describe(bool inputs) const;
  py::list describe_overridable() const;
};

Signature read_signature(const Ort::Session& session);

}  // namespace ortbind
