// The run path: a run's arguments become a Request, its feeds become OrtValues over the callers'
// buffers (checked against the contract), preallocated outputs are bound, the GIL is released
// around Run, and the outputs come back as numpy views in the requested order.
#include "session.hpp"

#include "stop_control.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

namespace ortbind {
namespace {

PyTypeObject* g_result_type = nullptr;

const py::tuple& empty_args() {
  static py::tuple* empty = new py::tuple();  // never freed: it may be needed until the process ends
  return *empty;
}

}  // namespace

void set_result_type(PyTypeObject* type) {
  Py_INCREF(type);
  g_result_type = type;
}

py::object Session::run(py::handle feeds, py::handle outputs, py::handle out, py::handle timeout, py::handle cancel,
                        py::handle adapters, py::handle contract_arg) {
  ensure_open();
  Request request = parse_request(outputs, timeout, cancel, adapters, contract_arg);
  Call call(input_names_.size(), request);
  gather_inputs(call, feeds);
  // Outputs of earlier runs that Python has dropped are passed back to Run to write into: those
  // made for these input shapes, read now, before any other Python code can reshape an input.
  const bool pooled = out.is_none() && call.only_tensors && pool_->enabled();
  if (pooled) {
    OutputPool::Key& key = OutputPool::scratch_key();
    for (size_t i = 0; i < input_names_.size(); ++i) {
      PyArrayObject* arr = call.input_arrays[i];
      if (arr == nullptr)
        key.absent();
      else
        key.add(PyArray_DIMS(arr), static_cast<size_t>(PyArray_NDIM(arr)));
    }
    pool_->lease(call.pool, key);
  }
  select_outputs(call, request);
  if (!out.is_none()) bind_preallocated(out, call);
  bool reused = false;
  if (pooled) {
    for (size_t k = 0; k < call.selected.size(); ++k) {
      call.results[k] = call.pool.take(call.selected[k]);
      reused = reused || call.results[k] != nullptr;
    }
  }

  std::optional<StopControl> stop;
  StatusGuard status;
  auto attempt = [&](double timeout, bool quiet) {
    stop.emplace(RunThread::kCaller, request.token, timeout, request.adapters);
    // A run that may be refused for a buffer passed back logs nothing at the default levels: the
    // refusal is not the caller's error (it is run again), and any other failure still raises.
    const QuietRun quieted(quiet ? stop->options() : nullptr, env_->settings().log_level);
    const bool started = while_open([&] {
      stop->start();
      status.reset(api().Run(session_, stop->options(), call.input_names.data(), call.inputs.data(), call.n_run_inputs,
                             call.output_names.data(), call.selected.size(), call.results.data()));
      stop->stop();
    });
    if (!started) fail(Problem::Closed, "the session was closed before the run started");
  };
  const auto began =
      reused && request.timeout >= 0 ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  attempt(request.timeout, reused);
  if (reused && status.failed() && output_shape_refused(status.get())) {
    // An output of data-dependent size came out in another shape than the buffer passed for it:
    // ONNX Runtime refused the run. It runs again with outputs of its own, and the session stops
    // passing buffers back, so that this happens at most once per session. A stop that came
    // meanwhile (Ctrl-C, the time limit, the token) ends it here instead.
    stop->raise_if_stopped();
    pool_->disable();
    for (size_t k = 0; k < call.selected.size(); ++k) {
      if (call.results[k] != nullptr) api().ReleaseValue(std::exchange(call.results[k], nullptr));
    }
    double left = request.timeout;
    if (left >= 0)
      left = std::max(0.0, left - std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
    status.reset(nullptr);
    attempt(left, false);
  }
  if (status.failed()) {
    stop->raise_if_stopped();
    check(status.release());
  }
  return collect(call, request.requested || call.selected.size() < kKeysTemplateFrom ? nullptr : all_keys_.ptr());
}

size_t Session::lookup(PyObject* key, const py::dict& index, const std::vector<std::string>& names,
                       const char* role) const {
  if (!PyUnicode_Check(key)) {
    fail(Problem::Name, std::string(role) + " names must be str, not " + Py_TYPE(key)->tp_name + " " +
                            py::repr(key).cast<std::string>());
  }
  PyObject* found = PyDict_GetItemWithError(index.ptr(), key);
  if (found == nullptr) {
    if (PyErr_Occurred()) throw py::error_already_set();
    fail(Problem::Name, py::module_::import("ortbind._convert")
                            .attr("unknown_message")(role, py::handle(key), names)
                            .cast<std::string>());
  }
  return PyLong_AsSize_t(found);
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

Request Session::parse_request(py::handle outputs, py::handle timeout, py::handle cancel, py::handle adapters,
                               py::handle contract_arg) const {
  Request request;
  if (!adapters.is_none()) request.adapters = parse_adapters(adapters);
  if (!contract_arg.is_none()) {
    if (!py::isinstance<Contract>(contract_arg))
      fail(Problem::Kind,
           std::string("contract must be a CompiledContract, not ") + Py_TYPE(contract_arg.ptr())->tp_name);
    request.contract_hold = native_shared<Contract>(contract_arg, "CompiledContract");
  }
  // Held for the whole run: _set_contract may replace the session's while the GIL is released.
  if (!request.contract_hold) request.contract_hold = contract_;
  request.contract = request.contract_hold.get();
  if (request.contract != nullptr && request.contract->owner != this)
    fail(Problem::Value, "that contract was compiled for another session");
  read_stop_arguments(request, timeout, cancel);
  request.n_outputs = output_names_.size();
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

// Converts the feeds into the call's input values (checking the contract). Inputs marked in
// `prebound` (a Binding's inputs bound once) are neither taken from the feeds nor missing.
void Session::gather_inputs(Call& call, py::handle feeds, const std::vector<char>* prebound) {
  const size_t n_inputs = input_names_.size();
  if (PyDict_Check(feeds.ptr())) {
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    Py_ssize_t pos = 0;
    while (PyDict_Next(feeds.ptr(), &pos, &key, &value)) {
      // Owned for the call: converting a value may run Python code that changes the dict.
      py::object owned_key = py::reinterpret_borrow<py::object>(key);
      py::object owned_value = py::reinterpret_borrow<py::object>(value);
      add_input(input_index(key), value, call, prebound);
    }
  } else if (PyArray_Check(feeds.ptr()) && n_model_inputs_ == 1) {
    add_input(0, feeds.ptr(), call, prebound);
  } else if (py::isinstance<py::dict>(feeds) || py::hasattr(feeds, "keys")) {
    for (auto item : py::reinterpret_borrow<py::object>(feeds).attr("items")()) {
      auto pair = item.cast<py::tuple>();
      add_input(input_index(pair[0].ptr()), pair[1].ptr(), call, prebound);
    }
  } else {
    fail(Problem::Kind, std::string("feeds must be a dict of input name to value") +
                            (n_model_inputs_ == 1 ? " (or one array for this single-input model)" : "") + ", not " +
                            Py_TYPE(feeds.ptr())->tp_name);
  }

  // Inputs left out: an absent optional is fine, anything else is missing. The values given are
  // packed to the front, with their names, in the model's order.
  std::vector<std::string> missing;
  for (size_t i = 0; i < n_inputs; ++i) {
    if (call.inputs[i] != nullptr) {
      call.input_names[call.n_run_inputs] = input_name_ptrs_[i];
      call.inputs[call.n_run_inputs] = call.inputs[i];
      if (call.n_run_inputs != i) call.inputs[i] = nullptr;
      ++call.n_run_inputs;
    } else if (input_types_[i].kind != ONNX_TYPE_OPTIONAL && i < n_model_inputs_ &&
               (prebound == nullptr || !(*prebound)[i])) {
      missing.push_back(input_names_[i]);
    }
  }
  if (!missing.empty()) {
    fail(Problem::Name,
         py::module_::import("ortbind._convert").attr("missing_message")(missing, input_names_).cast<std::string>());
  }
}

// The outputs the run computes: the model's order, or the caller's.
void Session::select_outputs(Call& call, const Request& request) {
  for (size_t k = 0; k < request.n_outputs; ++k) {
    if (!request.requested) {
      call.selected[k] = k;
    } else {
      call.selected[k] = output_index(PySequence_Fast_GET_ITEM(request.requested.ptr(), static_cast<Py_ssize_t>(k)));
      for (size_t j = 0; j < k; ++j)
        if (call.selected[j] == call.selected[k])
          fail(Problem::Name, "output " + quoted(output_names_[call.selected[k]]) + " is requested twice");
    }
    call.output_names[k] = output_name_ptrs_[call.selected[k]];
  }
}

void Session::add_input(size_t index, PyObject* value, Call& call, const std::vector<char>* prebound) {
  if (call.inputs[index] != nullptr) fail(Problem::Name, "input " + quoted(input_names_[index]) + " is given twice");
  if (prebound != nullptr && (*prebound)[index])
    fail(Problem::Name, "input " + quoted(input_names_[index]) +
                            " is bound once to an array of this binding; refill that array in place instead");
  const ValueType& type = input_types_[index];
  if (type.kind == ONNX_TYPE_OPTIONAL && value == Py_None) return;  // absent: left out of the run
  if (type.kind != ONNX_TYPE_TENSOR) {
    call.only_tensors = false;
    call.inputs[index] = value_from_python(value, type, "input", input_names_[index], call.keep);
    return;
  }
  ONNXTensorElementDataType element = type.element;
  // The contract covers the model's inputs, not its overridable initializers.
  const Contract* contract = index < n_model_inputs_ ? call.contract : nullptr;
  // An array's shape is checked before anything is copied or converted: a broadcast view of a
  // huge shape must fail as a ShapeError, not as the MemoryError of its copy.
  const bool checked_early = contract != nullptr && PyArray_Check(value);
  if (checked_early) {
    auto* given = reinterpret_cast<PyArrayObject*>(value);
    call.bindings->check(contract->inputs[index], true, index, PyArray_DIMS(given), PyArray_NDIM(given));
  }
  py::object array = input_array(value, element, "input", input_names_[index]);
  auto* arr = reinterpret_cast<PyArrayObject*>(array.ptr());
  if (contract != nullptr && !checked_early)
    call.bindings->check(contract->inputs[index], true, index, PyArray_DIMS(arr), PyArray_NDIM(arr));
  call.inputs[index] = tensor_over_array(arr, element);
  call.input_arrays[index] = arr;
  call.keep.add(std::move(array));
}

// out={name: array}: the run writes those outputs into the caller's arrays. Checked here, before
// the run, against the model and the contract: ONNX Runtime refuses a buffer that breaks the
// model's declaration with a less helpful message.
void Session::bind_preallocated(py::handle out, Call& call) {
  auto& selected = call.selected;
  if (!PyDict_Check(out.ptr())) fail(Problem::Kind, "out must be a dict of output name to numpy array");
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  Py_ssize_t pos = 0;
  while (PyDict_Next(out.ptr(), &pos, &key, &value)) {
    const size_t index = output_index(key);
    const std::string& name = output_names_[index];
    size_t slot = selected.size();
    for (size_t k = 0; k < selected.size(); ++k)
      if (selected[k] == index) slot = k;
    if (slot == selected.size())
      fail(Problem::Name, "out names output " + quoted(name) + ", which this run does not request");
    const ValueType& type = output_types_[index];
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
      call.bindings->check(call.contract->outputs[index], false, index, PyArray_DIMS(arr), PyArray_NDIM(arr));
    call.results[slot] = tensor_over_array(arr, type.element);
    call.preallocated[slot] = value;
    call.keep.add(py::reinterpret_borrow<py::object>(value));
  }
}

// The outputs as a Result (or dict) in the requested order, each computed output taking ownership
// of its OrtValue. A computed output that breaks the user's declared contract raises
// OutputShapeError here, after the run, carrying the complete result.
py::object Session::collect(Call& call, PyObject* keys, bool keys_hold_preallocated) {
  auto& selected = call.selected;
  py::object result =
      g_result_type != nullptr
          ? py::reinterpret_steal<py::object>(PyDict_Type.tp_new(g_result_type, empty_args().ptr(), nullptr))
          : py::reinterpret_steal<py::object>(PyDict_New());
  if (!result) throw py::error_already_set();
  // Many outputs: the keys in order, cloned in one step from a dict made once (CPython copies a
  // compact dict's table into an empty one whole), so that setting each value below neither grows
  // nor rehashes the table.
  if (keys != nullptr && PyDict_Update(result.ptr(), keys) != 0) throw py::error_already_set();
  std::optional<std::string> broken;
  for (size_t k = 0; k < selected.size(); ++k) {
    const size_t index = selected[k];
    if (keys_hold_preallocated && call.preallocated[k] != nullptr) continue;  // cloned in place already
    py::object value;
    if (call.preallocated[k] != nullptr) {
      value = py::reinterpret_borrow<py::object>(call.preallocated[k]);
    } else {
      value = output_types_[index].kind == ONNX_TYPE_TENSOR
                  ? tensor_to_python(call.results.take(k), "output", output_names_[index], &call.pool, index)
                  : value_to_python(call.results.take(k), "output", output_names_[index]);
      if (output_is_input_[index] && PyArray_Check(value.ptr())) {
        // Possibly the caller's own buffer (a feed returned as an output): an array of its own.
        value = py::reinterpret_steal<py::object>(
            PyArray_NewCopy(reinterpret_cast<PyArrayObject*>(value.ptr()), NPY_CORDER));
        if (!value) throw py::error_already_set();
      }
    }
    if (call.contract != nullptr && call.contract->check_computed[index] && call.preallocated[k] == nullptr &&
        !broken && PyArray_Check(value.ptr())) {
      auto* arr = reinterpret_cast<PyArrayObject*>(value.ptr());
      try {
        call.bindings->check(call.contract->outputs[index], false, index, PyArray_DIMS(arr), PyArray_NDIM(arr));
      } catch (const ValidationError& e) {
        broken = e.what();
      }
    }
    if (PyDict_SetItem(result.ptr(), output_keys_[index].ptr(), value.ptr()) != 0) throw py::error_already_set();
  }
  if (broken) {
    // The results are complete; the error carries them so that no work is lost.
    py::object cls = py::module_::import("ortbind._core").attr("OutputShapeError");
    py::object error = cls(*broken);
    error.attr("result") = result;
    PyErr_SetObject(cls.ptr(), error.ptr());
    throw py::error_already_set();
  }
  return result;
}

}  // namespace ortbind
