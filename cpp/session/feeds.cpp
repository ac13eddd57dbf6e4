// A run's feeds become OrtValues over the callers' buffers, each checked against the model and the
// contract before anything is copied or converted; its outputs are selected, and preallocated
// outputs checked and wrapped.
#include "session/call.hpp"

#include "values/element_types.hpp"

namespace ortbind {
namespace {

void add_input(const Signature& signature, size_t index, PyObject* value, Call& call,
               const std::vector<char>* prebound) {
  if (call.inputs[index] != nullptr)
    fail(Problem::Name, "input " + quoted(signature.input_names[index]) + " is given twice");
  if (prebound != nullptr && (*prebound)[index])
    fail(Problem::Name, "input " + quoted(signature.input_names[index]) +
                            " is bound once to an array of this binding; refill that array in place instead");
  const ValueType& type = signature.input_types[index];
  if (type.kind == ONNX_TYPE_OPTIONAL && value == Py_None) return;  // absent: left out of the run
  if (type.kind != ONNX_TYPE_TENSOR) {
    call.only_tensors = false;
    call.inputs[index] = value_from_python(value, type, "input", signature.input_names[index], call.keep);
    return;
  }
  ONNXTensorElementDataType element = type.element;
  // The contract covers the model's inputs, not its overridable initializers.
  const Contract* contract = index < signature.n_model_inputs ? call.contract : nullptr;
  // Another framework's tensor (DLPack) is taken as the numpy array over its buffer, from here on.
  if (!PyArray_Check(value)) value = array_or_dlpack_view(value, element, signature.input_names[index], call.keep);
  // An array's shape is checked before anything is copied or converted: a broadcast view of a
  // huge shape must fail as a ShapeError, not as the MemoryError of its copy.
  const bool checked_early = contract != nullptr && PyArray_Check(value);
  if (checked_early) {
    auto* given = reinterpret_cast<PyArrayObject*>(value);
    call.symbols->check(contract->inputs[index], true, index, PyArray_DIMS(given), PyArray_NDIM(given));
  }
  py::object array = input_array(value, element, "input", signature.input_names[index]);
  auto* arr = reinterpret_cast<PyArrayObject*>(array.ptr());
  if (contract != nullptr && !checked_early)
    call.symbols->check(contract->inputs[index], true, index, PyArray_DIMS(arr), PyArray_NDIM(arr));
  call.inputs[index] = tensor_over_array(arr, element);
  call.input_arrays[index] = arr;
  call.keep.add(std::move(array));
}

}  // namespace

void gather_inputs(const Signature& signature, Call& call, py::handle feeds, const std::vector<char>* prebound) {
  const size_t n_inputs = signature.input_names.size();
  if (PyDict_Check(feeds.ptr())) {
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    Py_ssize_t pos = 0;
    while (PyDict_Next(feeds.ptr(), &pos, &key, &value)) {
      // Owned for the call: converting a value may run Python code that changes the dict.
      py::object owned_key = py::reinterpret_borrow<py::object>(key);
      py::object owned_value = py::reinterpret_borrow<py::object>(value);
      add_input(signature, signature.input(key), value, call, prebound);
    }
  } else if ((PyArray_Check(feeds.ptr()) || has_dlpack(feeds)) && signature.n_model_inputs == 1) {
    add_input(signature, 0, feeds.ptr(), call, prebound);
  } else if (py::isinstance<py::dict>(feeds) || py::hasattr(feeds, "keys")) {
    for (auto item : py::reinterpret_borrow<py::object>(feeds).attr("items")()) {
      auto pair = item.cast<py::tuple>();
      add_input(signature, signature.input(pair[0].ptr()), pair[1].ptr(), call, prebound);
    }
  } else {
    fail(Problem::Kind, std::string("feeds must be a dict of input name to value") +
                            (signature.n_model_inputs == 1 ? " (or one array for this single-input model)" : "") +
                            ", not " + Py_TYPE(feeds.ptr())->tp_name);
  }

  // Inputs left out: an absent optional is fine, anything else is missing. The values given are
  // packed to the front, with their names, in the model's order.
  std::vector<std::string> missing;
  for (size_t i = 0; i < n_inputs; ++i) {
    if (call.inputs[i] != nullptr) {
      call.input_names[call.n_run_inputs] = signature.input_name_ptrs[i];
      call.inputs[call.n_run_inputs] = call.inputs[i];
      if (call.n_run_inputs != i) call.inputs[i] = nullptr;
      ++call.n_run_inputs;
    } else if (signature.input_types[i].kind != ONNX_TYPE_OPTIONAL && i < signature.n_model_inputs &&
               (prebound == nullptr || !(*prebound)[i])) {
      missing.push_back(signature.input_names[i]);
    }
  }
  if (!missing.empty()) {
    fail(Problem::Name, convert_module().attr("missing_message")(missing, signature.input_names).cast<std::string>());
  }
}

void select_outputs(const Signature& signature, Call& call, const Request& request) {
  for (size_t k = 0; k < request.n_outputs; ++k) {
    if (!request.requested) {
      call.selected[k] = k;
    } else {
      call.selected[k] =
          signature.output(PySequence_Fast_GET_ITEM(request.requested.ptr(), static_cast<Py_ssize_t>(k)));
      for (size_t j = 0; j < k; ++j)
        if (call.selected[j] == call.selected[k])
          fail(Problem::Name, "output " + quoted(signature.output_names[call.selected[k]]) + " is requested twice");
    }
    call.output_names[k] = signature.output_name_ptrs[call.selected[k]];
  }
}

// Checked here, before
// the run, against the model and the contract: ONNX Runtime refuses a buffer that breaks the
// model's declaration with a less helpful message.
void use_preallocated(const Signature& signature, Call& call, py::handle out) {
  auto& selected = call.selected;
  if (!PyDict_Check(out.ptr())) fail(Problem::Kind, "out must be a dict of output name to numpy array");
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  Py_ssize_t pos = 0;
  while (PyDict_Next(out.ptr(), &pos, &key, &value)) {
    const size_t index = signature.output(key);
    const std::string& name = signature.output_names[index];
    size_t slot = selected.size();
    for (size_t k = 0; k < selected.size(); ++k)
      if (selected[k] == index) slot = k;
    if (slot == selected.size())
      fail(Problem::Name, "out names output " + quoted(name) + ", which this run does not request");
    const ValueType& type = signature.output_types[index];
    if (type.kind != ONNX_TYPE_TENSOR || type.element == ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING)
      fail(Problem::Kind,
           "output " + quoted(name) + " is a " + type.describe() + "; only numeric tensors can be preallocated");
    // ONNX Runtime writes sub-byte elements packed; the array holds one per byte, so the run would
    // write into a packed copy and leave the caller's array as it was.
    if (packed_bits(type.element) != 0)
      fail(Problem::Kind, "output " + quoted(name) + " is " + element_name(type.element) +
                              ", which ONNX Runtime packs below a byte; it cannot be preallocated");
    PyArrayObject* arr = array_in_place(value, type.element, "out[" + quoted(name) + "]", "output " + quoted(name),
                                        "the run writes into its buffer");
    if (!PyArray_ISWRITEABLE(arr)) fail(Problem::Value, "out[" + quoted(name) + "] is read-only");
    if (call.contract != nullptr)
      call.symbols->check(call.contract->outputs[index], false, index, PyArray_DIMS(arr), PyArray_NDIM(arr));
    call.results[slot] = tensor_over_array(arr, type.element);
    call.preallocated[slot] = value;
    call.keep.add(py::reinterpret_borrow<py::object>(value));
  }
}

}  // namespace ortbind
