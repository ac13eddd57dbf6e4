#include "session/binding.hpp"

#include "session/pipeline.hpp"

#include <algorithm>

namespace ortbind {
namespace {

const py::dict& no_feeds() {
  static py::dict* empty = new py::dict();  // never freed: it may be needed until the process ends
  return *empty;
}

}  // namespace

Binding::Slot::~Slot() {
  if (io != nullptr) api().ReleaseIoBinding(io);
}

Binding::Produced::~Produced() {
  if (values == nullptr) return;
  for (size_t k = 0; k < count; ++k)
    if (values[k] != nullptr) api().ReleaseValue(values[k]);
  allocator->Free(allocator, values);
}

Binding::Binding(py::handle session, py::handle outputs, py::handle out, py::handle inputs, py::handle contract)
    : session_object_(py::reinterpret_borrow<py::object>(session)),
      session_(native<Session>(session, "ortbind.Session")) {
  session_.ensure_open();
  const Signature& signature = session_.signature();
  RunArguments arguments;
  arguments.outputs = outputs;
  arguments.contract = contract;
  const Request request = read_request(session_, arguments);
  contract_ = request.contract;
  Call call(signature.input_names.size(), request);
  ortbind::select_outputs(signature, call, request);
  selected_.assign(call.selected.data(), call.selected.data() + call.selected.size());
  if (!out.is_none()) use_preallocated(signature, call, out);
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
  if (has_out_ || selected_.size() >= kKeysTemplateFrom) {
    keys_ = py::dict();
    for (size_t k = 0; k < selected_.size(); ++k)
      keys_[signature.output_keys[selected_[k]]] = out_arrays_[k] ? out_arrays_[k] : py::none();
  }
  is_bound_.assign(signature.input_names.size(), 0);
  dims_by_input_.assign(signature.input_names.size(), nullptr);
  if (!inputs.is_none()) bind_inputs_once(inputs, call);
}

// inputs={name: array}: arrays ONNX Runtime reads in place on every run, which the caller refills.
void Binding::bind_inputs_once(py::handle inputs, Call& call) {
  const Signature& signature = session_.signature();
  if (!PyDict_Check(inputs.ptr())) fail(Problem::Kind, "inputs must be a dict of input name to numpy array");
  for (auto item : py::reinterpret_borrow<py::dict>(inputs)) {
    const size_t index = signature.input(item.first.ptr());
    const std::string& name = signature.input_names[index];
    const ValueType& type = signature.input_types[index];
    // Bound once means ONNX Runtime reads the array's own buffer on every run: anything that needs
    // a copy (a conversion, another layout, strings, packed sub-byte types) would not see refills.
    if (!type.is_plain_tensor())
      fail(Problem::Kind, "input " + quoted(name) + " is " + type.describe() +
                              "; only numeric tensors of whole bytes can be bound once (give it per call)");
    // Another framework's tensor (DLPack) is bound as the numpy array over its buffer, which holds
    // the producer's tensor for the binding's life.
    py::object from_dlpack = array_from_dlpack(item.second, type.element, "input", name);
    py::handle given = from_dlpack ? py::handle(from_dlpack) : item.second;
    PyArrayObject* arr =
        array_in_place(given.ptr(), type.element, "inputs[" + quoted(name) + "]", "input " + quoted(name),
                       "every run reads its buffer, so a copy would not see what is refilled");
    if (call.contract != nullptr && index < signature.n_model_inputs)
      call.symbols->check(call.contract->inputs[index], true, index, PyArray_DIMS(arr), PyArray_NDIM(arr));
    is_bound_[index] = 1;
    bound_.push_back(index);
    bound_arrays_.push_back(py::reinterpret_borrow<py::object>(given));
    bound_values_.emplace_back(tensor_over_array(arr, type.element));
    bound_dims_.emplace_back(PyArray_DIMS(arr), PyArray_DIMS(arr) + PyArray_NDIM(arr));
  }
  for (size_t b = 0; b < bound_.size(); ++b) dims_by_input_[bound_[b]] = &bound_dims_[b];
  // Every input bound once and checked above, and no computed output checked against symbols: the
  // check of each run would find exactly what this one did.
  const size_t model_inputs_bound = static_cast<size_t>(
      std::count_if(bound_.begin(), bound_.end(), [&](size_t index) { return index < signature.n_model_inputs; }));
  settled_ = call.contract != nullptr && model_inputs_bound == signature.n_model_inputs &&
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

// The shapes bound once against this call's symbols, so that the per-call inputs' symbols agree:
// those of the inputs before the feeds, those of the preallocated outputs after them (as run(out=)
// checks them; ONNX Runtime would refuse a mismatch with a less helpful message).
void Binding::check_bound(Call& call) const {
  if (call.contract == nullptr || settled_) return;
  const size_t n_model_inputs = session_.signature().n_model_inputs;
  for (size_t b = 0; b < bound_.size(); ++b)
    if (bound_[b] < n_model_inputs)  // the contract covers inputs, not overridable initializers
      call.symbols->check(call.contract->inputs[bound_[b]], true, bound_[b], bound_dims_[b].data(),
                          bound_dims_[b].size());
}

// Brings this thread's OrtIoBinding up to this call, with the GIL released. The inputs bound once
// and the outputs are bound the first time; the per-call inputs every time (rebinding a name
// replaces its value). A call that feeds another set of inputs than the last (an optional left
// out) clears the inputs first, so none of the last call's values is run again.
OrtStatus* Binding::prepare(Slot& slot, Call& call, const Fed& fed) {
  const OrtApi& ort = api();
  OrtSession* session = session_.ort_session();
  if (slot.io == nullptr)
    if (OrtStatus* status = ort.CreateIoBinding(session, &slot.io)) return status;
  if (!slot.prepared || !std::equal(fed.data(), fed.data() + fed.size(), slot.fed.begin(), slot.fed.end())) {
    ort.ClearBoundInputs(slot.io);
    if (!slot.prepared) ort.ClearBoundOutputs(slot.io);
    for (size_t b = 0; b < bound_.size(); ++b)
      if (OrtStatus* status =
              ort.BindInput(slot.io, session_.signature().input_name_ptrs[bound_[b]], bound_values_[b].get()))
        return status;
    if (!slot.prepared) {
      for (size_t k = 0; k < selected_.size(); ++k) {
        const char* name = session_.signature().output_name_ptrs[selected_[k]];
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

py::object Binding::run(py::handle feeds, const RunArguments& arguments) {
  session_.ensure_open();
  const Signature& signature = session_.signature();
  Request request;
  request.contract = contract_;
  read_run_arguments(request, arguments);
  request.n_outputs = selected_.size();
  RunPipeline pipeline(session_, std::move(request));
  Call& call = pipeline.call();
  check_bound(call);
  pipeline.feed(feeds.is_none() ? py::handle(no_feeds()) : feeds, &is_bound_);
  // Not with preallocated outputs, as run() with out=: a refusal of the caller's own array reads the
  // same as one of a buffer passed back.
  const bool pooled = computes_ && !has_out_;
  if (pooled) pipeline.lease_outputs(&dims_by_input_);
  for (size_t k = 0; k < selected_.size(); ++k) {
    call.selected[k] = selected_[k];
    call.output_names[k] = signature.output_name_ptrs[selected_[k]];
    if (!out_arrays_[k]) continue;
    call.preallocated[k] = out_arrays_[k].ptr();
    if (call.contract != nullptr && !settled_)
      call.symbols->check(call.contract->outputs[selected_[k]], false, selected_[k], out_dims_[k].data(),
                          out_dims_[k].size());
  }
  // feed() packs the fed inputs to the front in the model's order; which ones they are:
  Fed fed(signature.input_names.size(), 0);
  for (size_t i = 0, j = 0; i < fed.size() && j < call.n_run_inputs; ++i) {
    if (call.input_names[j] == signature.input_name_ptrs[i]) {
      fed[i] = 1;
      ++j;
    }
  }
  RunValues passed(selected_.size());
  const bool passed_back = pooled && pipeline.pass_back(passed);
  Slot& slot = this_thread_slot();
  Produced produced;
  produced.allocator = Ort::AllocatorWithDefaultOptions();
  pipeline.run([&](StopControl& stop) { return launch(slot, call, fed, passed, produced, stop); }, passed, passed_back);
  // This call's inputs are let go with the pipeline, while the OrtIoBinding still views them: it
  // never reads them again, since every run binds each of its per-call inputs anew before it starts
  // (and clears them all when another set of inputs is fed).
  if (computes_ && produced.count != selected_.size())
    fail(Problem::Value, "ONNX Runtime returned " + std::to_string(produced.count) + " outputs for " +
                             std::to_string(selected_.size()) + " bound");
  // A preallocated output comes back as the caller's array; the value ONNX Runtime hands back for it
  // is a second reference, released with `produced`.
  for (size_t k = 0; k < selected_.size(); ++k)
    if (computes_ && !out_arrays_[k]) call.results[k] = std::exchange(produced.values[k], nullptr);
  return pipeline.results(keys_ ? keys_.ptr() : nullptr, true);
}

// One attempt at the run, with the GIL released and the session held open: this thread's binding
// brought up to the call, the passed-back buffers bound, RunWithBinding, and the outputs read back.
// A step that fails leaves the slot to be bound afresh next time (it may be bound in part, or hold
// the failed run's outputs, which the next run would reuse whatever their shape).
OrtStatus* Binding::launch(Slot& slot, Call& call, const Fed& fed, RunValues& passed, Produced& produced,
                           StopControl& stop) {
  std::unique_lock<std::mutex> turn(out_turn_, std::defer_lock);
  if (has_out_ && !turn.try_lock())
    fail(Problem::Value,
         "this binding writes into preallocated outputs (out=) and another thread is running it: each run would "
         "overwrite the arrays the other returned; give each thread its own binding");
  OrtStatus* status = prepare(slot, call, fed);
  // The binding holds a reference of its own to each value bound; the next run's rebinding (or the
  // one after this run) drops it.
  for (size_t k = 0; k < selected_.size() && status == nullptr; ++k)
    if (passed[k] != nullptr)
      status = api().BindOutput(slot.io, session_.signature().output_name_ptrs[selected_[k]], passed[k]);
  if (status == nullptr)
    status = stop.around(
        [&](OrtRunOptions* options) { return api().RunWithBinding(session_.ort_session(), options, slot.io); });
  if (status == nullptr && computes_) status = fetch_outputs(slot, produced);
  if (status != nullptr) slot.prepared = false;
  return status;
}

// The run's outputs left to ONNX Runtime, handed over. Such an output stays in the binding after
// the run, and the next run would write into that same buffer (measured: a returned array changed
// under its owner); binding the name to the device again drops it, so each run allocates anew.
OrtStatus* Binding::fetch_outputs(Slot& slot, Produced& produced) {
  if (OrtStatus* status = api().GetBoundOutputValues(slot.io, produced.allocator, &produced.values, &produced.count))
    return status;
  for (size_t k = 0; k < selected_.size(); ++k) {
    if (out_values_[k]) continue;
    const char* name = session_.signature().output_name_ptrs[selected_[k]];
    if (OrtStatus* rebind = api().BindOutputToDevice(slot.io, name, cpu_memory())) {
      api().ReleaseStatus(rebind);
      slot.prepared = false;  // the next call clears and binds every output again
    }
  }
  return nullptr;
}

py::tuple Binding::bound_inputs() const {
  py::tuple names(bound_.size());
  for (size_t b = 0; b < bound_.size(); ++b) names[b] = py::str(session_.signature().input_names[bound_[b]]);
  return names;
}

py::tuple Binding::outputs() const {
  py::tuple names(selected_.size());
  for (size_t k = 0; k < selected_.size(); ++k) names[k] = session_.signature().output_keys[selected_[k]];
  return names;
}

}  // namespace ortbind
