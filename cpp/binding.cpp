#include "binding.hpp"

#include "fastcall.hpp"
#include "session.hpp"
#include "stop_control.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

namespace ortbind {
namespace {

const py::dict& no_feeds() {
  static py::dict* empty = new py::dict();  // never freed: it may be needed until the process ends
  return *empty;
}

// The array of output values GetBoundOutputValues hands over, given back to its allocator.
struct ProducedValues {
  OrtAllocator* allocator = nullptr;
  OrtValue** values = nullptr;
  size_t count = 0;
  ~ProducedValues() {
    if (values == nullptr) return;
    for (size_t k = 0; k < count; ++k)
      if (values[k] != nullptr) api().ReleaseValue(values[k]);
    allocator->Free(allocator, values);
  }
};

}  // namespace

Binding::Slot::~Slot() {
  if (io != nullptr) api().ReleaseIoBinding(io);
}

Binding::Binding(py::handle session, py::handle outputs, py::handle out, py::handle inputs, py::handle contract)
    : session_object_(py::reinterpret_borrow<py::object>(session)),
      session_(native<Session>(session, "ortbind.Session")) {
  session_.ensure_open();
  const Request request = session_.parse_request(outputs, py::none(), py::none(), py::none(), contract);
  contract_ = request.contract_hold;
  Call call(session_.input_names_.size(), request);
  session_.select_outputs(call, request);
  selected_.assign(call.selected.data(), call.selected.data() + call.selected.size());
  if (!out.is_none()) session_.bind_preallocated(out, call);
  out_arrays_.resize(selected_.size());
  out_values_.resize(selected_.size());
  out_dims_.resize(selected_.size());
  for (size_t k = 0; k < selected_.size(); ++k) {
    if (call.preallocated[k] == nullptr) continue;
    out_arrays_[k] = py::reinterpret_borrow<py::object>(call.preallocated[k]);
    auto* arr = reinterpret_cast<PyArrayObject*>(call.preallocated[k]);
    out_dims_[k].assign(PyArray_DIMS(arr), PyArray_DIMS(arr) + PyArray_NDIM(arr));
    out_values_[k] = call.results.take(k);
    has_out_ = true;
  }

  computes_ = std::any_of(out_values_.begin(), out_values_.end(), [](const OwnedValue& v) { return !v; });
  if (has_out_ || selected_.size() >= Session::kKeysTemplateFrom) {
    keys_ = py::dict();
    for (size_t k = 0; k < selected_.size(); ++k)
      keys_[session_.output_keys_[selected_[k]]] = out_arrays_[k] ? out_arrays_[k] : py::none();
  }

  is_bound_.assign(session_.input_names_.size(), 0);
  if (inputs.is_none()) return;
  if (!PyDict_Check(inputs.ptr())) fail(Problem::Kind, "inputs must be a dict of input name to numpy array");
  for (auto item : py::reinterpret_borrow<py::dict>(inputs)) {
    const size_t index = session_.input_index(item.first.ptr());
    const std::string& name = session_.input_names_[index];
    const ValueType& type = session_.input_types_[index];
    // Bound once means ONNX Runtime reads the array's own buffer on every run: anything that needs
    // a copy (a conversion, another layout, strings, packed sub-byte types) would not see refills.
    if (type.kind != ONNX_TYPE_TENSOR || type.element == ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING ||
        packed_bits(type.element) != 0)
      fail(Problem::Kind, "input " + quoted(name) + " is " + type.describe() +
                              "; only numeric tensors of whole bytes can be bound once (give it per call)");
    PyArrayObject* arr =
        array_in_place(item.second.ptr(), type.element, "inputs[" + quoted(name) + "]", "input " + quoted(name),
                       "every run reads its buffer, so a copy would not see what is refilled");
    if (call.contract != nullptr && index < session_.n_model_inputs_)
      call.bindings->check(call.contract->inputs[index], true, index, PyArray_DIMS(arr), PyArray_NDIM(arr));
    is_bound_[index] = 1;
    bound_at_.resize(session_.input_names_.size(), 0);
    bound_at_[index] = bound_.size();
    bound_.push_back(index);
    bound_arrays_.push_back(py::reinterpret_borrow<py::object>(item.second));
    bound_values_.emplace_back(tensor_over_array(arr, type.element));
    bound_dims_.emplace_back(PyArray_DIMS(arr), PyArray_DIMS(arr) + PyArray_NDIM(arr));
  }
  // Every input bound once and checked above, and no computed output checked against symbols: the
  // check of each run would find exactly what this one did.
  const size_t model_inputs_bound = static_cast<size_t>(
      std::count_if(bound_.begin(), bound_.end(), [&](size_t index) { return index < session_.n_model_inputs_; }));
  settled_ = call.contract != nullptr && model_inputs_bound == session_.n_model_inputs_ &&
             std::none_of(selected_.begin(), selected_.end(),
                          [&](size_t index) { return call.contract->check_computed[index]; });
}

Binding::~Binding() = default;

Binding::Slot& Binding::this_thread_slot() {
  std::lock_guard<std::mutex> lock(slots_mutex_);
  std::unique_ptr<Slot>& slot = slots_[std::this_thread::get_id()];
  if (!slot) slot = std::make_unique<Slot>();
  return *slot;
}

// Brings this thread's OrtIoBinding up to this call, with the GIL released. The inputs bound once
// and the outputs are bound the first time; the per-call inputs every time (rebinding a name
// replaces its value). A call that feeds another set of inputs than the last (an optional left
// out) clears the inputs first, so none of the last call's values is run again.
OrtStatus* Binding::prepare(Slot& slot, Call& call, Fed& fed) {
  const OrtApi& ort = api();
  OrtSession* session = session_.session_;
  if (slot.io == nullptr)
    if (OrtStatus* status = ort.CreateIoBinding(session, &slot.io)) return status;
  if (!slot.prepared || !std::equal(fed.data(), fed.data() + fed.size(), slot.fed.begin(), slot.fed.end())) {
    ort.ClearBoundInputs(slot.io);
    if (!slot.prepared) ort.ClearBoundOutputs(slot.io);
    for (size_t b = 0; b < bound_.size(); ++b)
      if (OrtStatus* status = ort.BindInput(slot.io, session_.input_name_ptrs_[bound_[b]], bound_values_[b].get()))
        return status;
    if (!slot.prepared) {
      for (size_t k = 0; k < selected_.size(); ++k) {
        const char* name = session_.output_name_ptrs_[selected_[k]];
        OrtStatus* status = out_values_[k] ? ort.BindOutput(slot.io, name, out_values_[k].get())
                                           : ort.BindOutputToDevice(slot.io, name, cpu_memory());
        if (status != nullptr) return status;
      }
    }
    slot.fed.assign(fed.data(), fed.data() + fed.size());
    slot.prepared = true;
  }
  for (size_t j = 0; j < call.n_run_inputs; ++j)
    if (OrtStatus* status = ort.BindInput(slot.io, call.input_names[j], call.inputs[j])) return status;
  return nullptr;
}

py::object Binding::run(py::handle feeds, py::handle timeout, py::handle cancel, py::handle adapters) {
  session_.ensure_open();
  Request request;
  request.contract_hold = contract_;
  request.contract = contract_.get();
  read_stop_arguments(request, timeout, cancel);
  if (!adapters.is_none()) request.adapters = parse_adapters(adapters);
  request.n_outputs = selected_.size();
  Call call(session_.input_names_.size(), request);
  if (call.contract != nullptr && !settled_) {
    // The bound arrays' shapes as ONNX Runtime sees them, so that the per-call inputs' symbols agree.
    for (size_t b = 0; b < bound_.size(); ++b)
      if (bound_[b] < session_.n_model_inputs_)  // the contract covers inputs, not overridable initializers
        call.bindings->check(call.contract->inputs[bound_[b]], true, bound_[b], bound_dims_[b].data(),
                             bound_dims_[b].size());
  }
  session_.gather_inputs(call, feeds.is_none() ? py::handle(no_feeds()) : feeds, &is_bound_);
  // Outputs left to ONNX Runtime that earlier runs returned and Python has dropped: bound for this
  // run to write into, as run() passes them (output_pool.hpp). Keyed by every input's shape as ONNX
  // Runtime sees it (a bound input's as bound), read now, before any other Python code can reshape
  // an input. Not with preallocated outputs, as run() with out=: a refusal of the caller's own
  // array reads the same as one of a buffer passed back.
  RunValues passed(selected_.size());
  bool reused = false;
  if (computes_ && !has_out_ && call.only_tensors && session_.pool_->enabled()) {
    OutputPool::Key& key = OutputPool::scratch_key();
    for (size_t i = 0; i < session_.input_names_.size(); ++i) {
      if (is_bound_[i]) {
        const auto& dims = bound_dims_[bound_at_[i]];
        key.add(dims.data(), dims.size());
      } else if (PyArrayObject* arr = call.input_arrays[i]) {
        key.add(PyArray_DIMS(arr), static_cast<size_t>(PyArray_NDIM(arr)));
      } else {
        key.absent();
      }
    }
    session_.pool_->lease(call.pool, key);
    for (size_t k = 0; k < selected_.size(); ++k) {
      passed[k] = call.pool.take(selected_[k]);
      reused = reused || passed[k] != nullptr;
    }
  }
  if (call.contract != nullptr && !settled_) {
    // The preallocated outputs against this call's symbols, after the inputs, as run(out=) checks
    // them: ONNX Runtime would refuse a mismatch with a less helpful message.
    for (size_t k = 0; k < selected_.size(); ++k)
      if (out_arrays_[k])
        call.bindings->check(call.contract->outputs[selected_[k]], false, selected_[k], out_dims_[k].data(),
                             out_dims_[k].size());
  }
  // gather_inputs packs the fed inputs to the front in the model's order; which ones they are:
  Fed fed(session_.input_names_.size(), 0);
  for (size_t i = 0, j = 0; i < fed.size() && j < call.n_run_inputs; ++i) {
    if (call.input_names[j] == session_.input_name_ptrs_[i]) {
      fed[i] = 1;
      ++j;
    }
  }
  for (size_t k = 0; k < selected_.size(); ++k) {
    call.selected[k] = selected_[k];
    call.output_names[k] = session_.output_name_ptrs_[selected_[k]];
    if (out_arrays_[k]) call.preallocated[k] = out_arrays_[k].ptr();
  }

  Slot& slot = this_thread_slot();
  std::optional<StopControl> stop;
  StatusGuard status;
  ProducedValues produced;
  Ort::AllocatorWithDefaultOptions allocator;
  produced.allocator = allocator;
  bool busy = false;
  bool started = false;
  auto attempt = [&](double timeout, bool quiet) {
    stop.emplace(RunThread::kCaller, request.token, timeout, request.adapters);
    const QuietRun quieted(quiet ? stop->options() : nullptr, session_.env_->settings().log_level);
    started = session_.while_open([&] {
      std::unique_lock<std::mutex> turn(out_turn_, std::defer_lock);
      if (has_out_ && !turn.try_lock()) {
        busy = true;
        return;
      }
      status.reset(prepare(slot, call, fed));
      if (status.failed()) {
        slot.prepared = false;  // bound only in part: bind everything again next time
        return;
      }
      // The binding holds a reference of its own to each value bound; the next run's rebinding (or
      // the one after this run) drops it.
      for (size_t k = 0; k < selected_.size(); ++k) {
        if (passed[k] == nullptr) continue;
        status.reset(api().BindOutput(slot.io, session_.output_name_ptrs_[selected_[k]], passed[k]));
        if (status.failed()) {
          slot.prepared = false;
          return;
        }
      }
      stop->start();
      status.reset(api().RunWithBinding(session_.session_, stop->options(), slot.io));
      stop->stop();
      // A failed run may leave outputs allocated in the binding, which the next run would try to
      // reuse whatever their shape: bind everything afresh next time.
      if (status.failed()) slot.prepared = false;
      if (status.failed() || !computes_) return;
      status.reset(api().GetBoundOutputValues(slot.io, produced.allocator, &produced.values, &produced.count));
      if (status.failed()) {
        slot.prepared = false;  // the run's outputs may still be bound: bind everything afresh
        return;
      }
      // An output left to ONNX Runtime stays in the binding after the run, and the next run writes
      // into that same buffer (measured: a returned array changed under its owner). Binding the
      // name to the device again drops it, so each run allocates anew.
      for (size_t k = 0; k < selected_.size(); ++k) {
        if (out_values_[k]) continue;
        if (OrtStatus* rebind =
                api().BindOutputToDevice(slot.io, session_.output_name_ptrs_[selected_[k]], cpu_memory())) {
          api().ReleaseStatus(rebind);
          slot.prepared = false;  // the next call clears and binds every output again
        }
      }
    });
  };
  const auto began =
      reused && request.timeout >= 0 ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  attempt(request.timeout, reused);
  if (started && !busy && reused && status.failed() && output_shape_refused(status.get())) {
    // As in Session::run: an output whose size depends on input values came out in another shape
    // than the buffer bound for it. Bound afresh (the failed run unprepared the slot), it runs
    // again with outputs of ONNX Runtime's own, and the session stops passing buffers back.
    stop->raise_if_stopped();
    session_.pool_->disable();
    for (size_t k = 0; k < selected_.size(); ++k)
      if (passed[k] != nullptr) api().ReleaseValue(std::exchange(passed[k], nullptr));
    double left = request.timeout;
    if (left >= 0)
      left = std::max(0.0, left - std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
    status.reset(nullptr);
    attempt(left, false);
  }
  // This call's inputs are let go with `call`, while the OrtIoBinding still views them: it never
  // reads them again, since every run binds each of its per-call inputs anew before it starts (and
  // clears them all when another set of inputs is fed).
  if (!started) fail(Problem::Closed, "the session was closed before the run started");
  if (busy)
    fail(Problem::Value,
         "this binding writes into preallocated outputs (out=) and another thread is running it: each run would "
         "overwrite the arrays the other returned; give each thread its own binding");
  if (status.failed()) {
    stop->raise_if_stopped();
    check(status.release());
  }
  if (computes_ && produced.count != selected_.size())
    fail(Problem::Value, "ONNX Runtime returned " + std::to_string(produced.count) + " outputs for " +
                             std::to_string(selected_.size()) + " bound");
  for (size_t k = 0; k < selected_.size(); ++k) {
    // A preallocated output comes back as the caller's array; the value ONNX Runtime hands back
    // for it is a second reference, released with `produced`.
    if (computes_ && !out_arrays_[k]) call.results[k] = std::exchange(produced.values[k], nullptr);
  }
  return session_.collect(call, keys_ ? keys_.ptr() : nullptr, true);
}

py::tuple Binding::bound_inputs() const {
  py::tuple names(bound_.size());
  for (size_t b = 0; b < bound_.size(); ++b) names[b] = py::str(session_.input_names_[bound_[b]]);
  return names;
}

py::tuple Binding::outputs() const {
  py::tuple names(selected_.size());
  for (size_t k = 0; k < selected_.size(); ++k) names[k] = session_.output_keys_[selected_[k]];
  return names;
}

namespace {

// An instance whose __init__ never ran (Binding.__new__) is refused, never read.
Binding& binding_of(py::handle self) { return native<Binding>(self, "ortbind.Binding"); }

constexpr const char* kNames[] = {"feeds", "timeout", "cancel", "adapters"};
constexpr FastcallSignature kRun{"run", kNames, 4, 1, 0};

PyObject* run_fastcall(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* values[4];
  if (!parse_fastcall(kRun, kRun.count, args, nargs, kwnames, values)) return nullptr;
  return fastcall_result(
      [&] { return fastcall_self<Binding>(self, "ortbind.Binding").run(values[0], values[1], values[2], values[3]); });
}

}  // namespace

void bind_binding(py::module_& m) {
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
