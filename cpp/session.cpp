// ortbind.Session's native half: owns one Ort::Session, describes its signature, and runs it.
// The hot path (run) converts feeds to OrtValues over the callers' buffers, checks the compiled
// contract, releases the GIL around Run and returns numpy views over the runtime's outputs.
#include "common.hpp"

#include "cancel.hpp"
#include "contract.hpp"
#include "env.hpp"
#include "types.hpp"
#include "value.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <shared_mutex>
#include <thread>

#include <pthread.h>

namespace ortbind {
namespace {

// A short array on the stack, spilling to the heap past N: one run touches a few values, and the
// hot path should not allocate for them.
template <typename T, size_t N>
class SmallArray {
 public:
  explicit SmallArray(size_t size, T fill) : size_(size) {
    if (size > N) heap_.assign(size, fill);
    else std::fill(inline_, inline_ + size, fill);
  }
  T* data() { return size_ > N ? heap_.data() : inline_; }
  T& operator[](size_t i) { return data()[i]; }
  size_t size() const { return size_; }

 private:
  size_t size_;
  T inline_[N];
  std::vector<T> heap_;
};

// OrtValues made for one run, released when the run is over (outputs handed to Python are
// released from here first).
class RunValues {
 public:
  explicit RunValues(size_t size) : values_(size, nullptr) {}
  ~RunValues() {
    for (size_t i = 0; i < values_.size(); ++i)
      if (values_[i] != nullptr) api().ReleaseValue(values_[i]);
  }
  OrtValue*& operator[](size_t i) { return values_[i]; }
  OrtValue** data() { return values_.data(); }
  OwnedValue take(size_t i) {
    OwnedValue owned(values_[i]);
    values_[i] = nullptr;
    return owned;
  }

 private:
  SmallArray<OrtValue*, 16> values_;
};

struct StatusGuard {
  OrtStatus* status = nullptr;
  ~StatusGuard() {
    if (status != nullptr) api().ReleaseStatus(status);
  }
  OrtStatus* release() { return std::exchange(status, nullptr); }
};

PyTypeObject* g_result_type = nullptr;  // ortbind.Result, registered by the Python package

// Bumped in the child of every fork. ONNX Runtime's thread pools do not survive fork (their threads
// stay in the parent), so a session made before the fork is refused in the child rather than left
// to hang; the child makes its own (unpickling a session does).
std::atomic<unsigned> g_process_generation{0};

GraphOptimizationLevel parse_optimization(const std::string& name) {
  if (name == "disabled") return ORT_DISABLE_ALL;
  if (name == "basic") return ORT_ENABLE_BASIC;
  if (name == "extended") return ORT_ENABLE_EXTENDED;
  if (name == "all") return ORT_ENABLE_ALL;
  fail(Problem::Value, "optimization must be 'disabled', 'basic', 'extended' or 'all', not " + quoted(name));
}

ExecutionMode parse_execution_mode(const std::string& name) {
  if (name == "sequential") return ORT_SEQUENTIAL;
  if (name == "parallel") return ORT_PARALLEL;
  fail(Problem::Value, "execution_mode must be 'sequential' or 'parallel', not " + quoted(name));
}

}  // namespace

class Session;

// A run's options, read from its arguments.
struct Request {
  std::shared_ptr<Contract> contract_hold;  // the caller's contract or the session's, kept for the run
  const Contract* contract = nullptr;
  std::shared_ptr<CancelToken> token;
  double timeout = -1.0;
  py::object requested;  // the caller's output names (a list or tuple), or none for the model's
  size_t n_outputs = 0;
};

// One run from its feeds to its outputs: the input values and what they view, the names, the
// output slots and the symbol bindings. On the stack for run(); on the heap for run_async().
struct Call {
  Call(size_t n_inputs, const Request& request)
      : inputs(n_inputs),
        input_names(n_inputs, nullptr),
        selected(request.n_outputs, 0),
        output_names(request.n_outputs, nullptr),
        results(request.n_outputs),
        preallocated(request.n_outputs, nullptr),
        contract(request.contract) {
    if (contract != nullptr) bindings.emplace(*contract);
  }

  RunValues inputs;
  KeepAlive keep;  // the arrays whose buffers the input values view, until Run returns
  SmallArray<const char*, 16> input_names;
  size_t n_run_inputs = 0;
  SmallArray<size_t, 16> selected;
  SmallArray<const char*, 16> output_names;
  RunValues results;
  SmallArray<PyObject*, 16> preallocated;  // borrowed: `keep` holds them
  const Contract* contract;
  std::optional<Bindings> bindings;
};

// A run_async call: the Call, plus what lives until ONNX Runtime's callback: the Python session
// (so it cannot be destroyed under the run), the Python callback, and the run's own options.
struct AsyncCall : Call {
  AsyncCall(size_t n_inputs, const Request& request)
      : Call(n_inputs, request), contract_hold(request.contract_hold), token(request.token), timeout(request.timeout) {}
  ~AsyncCall() {
    if (options != nullptr) api().ReleaseRunOptions(options);
  }

  void start() {
    check(api().CreateRunOptions(&options));
    if (token && !token->attach(options)) {
      token_refused = true;
      check(api().RunOptionsSetTerminate(options));
    }
    if (timeout >= 0) timer = arm_timer(options, timeout);
    count_run(1, options);
  }

  // The run is over; it stays counted for interpreter exit until its callback has returned.
  void stop() {
    if (timer) timer_fired = disarm_timer(timer);
    if (token && !token_refused) token->detach(options);
  }

  void raise_if_stopped() const {
    if (timer_fired)
      fail(Problem::Timeout, "the run did not finish within its time limit of " + std::to_string(timeout) + " s");
    if (token && token->cancelled()) fail(Problem::Cancelled, "the run was cancelled by its CancelToken");
  }

  std::shared_ptr<Contract> contract_hold;
  std::shared_ptr<CancelToken> token;
  double timeout;
  class Session* session = nullptr;
  py::object self;      // the Python Session
  py::object callback;  // callback(result, error, session)
  OrtRunOptions* options = nullptr;
  std::shared_ptr<TimerEntry> timer;
  bool timer_fired = false;
  bool token_refused = false;
};

bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

// Python sessions whose last reference a runtime thread would have dropped: destroying a session
// joins its thread pool, which must not happen on one of that pool's threads. Released by the next
// Python thread to start a run or close a session. Guarded by the GIL.
std::vector<PyObject*> g_deferred_sessions;

void release_deferred_sessions() {
  while (!g_deferred_sessions.empty()) {
    PyObject* object = g_deferred_sessions.back();
    g_deferred_sessions.pop_back();
    Py_DECREF(object);
  }
}

class Session {
 public:
  Session(py::handle model, py::handle env, std::optional<std::vector<std::string>> providers,
          const std::string& optimization, std::optional<int> intra_op_threads,
          std::optional<int> inter_op_threads, const std::string& execution_mode,
          std::map<std::string, int64_t> free_dimensions, std::map<std::string, std::string> config) {
    if (!env.is_none()) env_ = made<Env>(env, "ortbind.Env").core;
    Ort::SessionOptions options;
    options.SetGraphOptimizationLevel(parse_optimization(optimization));
    options.SetExecutionMode(parse_execution_mode(execution_mode));
    for (const auto& [name, value] : free_dimensions)
      check(api().AddFreeDimensionOverrideByName(options, name.c_str(), value));
    for (const auto& [key, value] : config) options.AddConfigEntry(key.c_str(), value.c_str());
    if (providers) add_providers(options, *providers);

    // The model: a path, or bytes-like. For bytes the buffer is held (and a bytearray cannot be
    // resized) while ONNX Runtime parses it; ONNX Runtime copies what it needs, so the caller may
    // change or drop the bytes once the session exists.
    std::optional<std::string> path;
    Py_buffer view{};
    bool have_view = false;
    if (py::isinstance<py::str>(model) || py::hasattr(model, "__fspath__")) {
      path = py::module_::import("os").attr("fsdecode")(model).cast<std::string>();
      // The runtime reads a C string: a NUL would silently load another file.
      if (path->find('\0') != std::string::npos) fail(Problem::Value, "the model path holds a NUL character");
    } else if (PyObject_CheckBuffer(model.ptr())) {
      if (PyObject_GetBuffer(model.ptr(), &view, PyBUF_CONTIG_RO) != 0) throw py::error_already_set();
      have_view = true;
    } else {
      fail(Problem::Kind, std::string("model must be a path (str or os.PathLike) or bytes-like, not ") +
                              Py_TYPE(model.ptr())->tp_name);
    }
    struct ViewGuard {
      Py_buffer* view;
      bool active;
      ~ViewGuard() {
        if (active) PyBuffer_Release(view);
      }
    } guard{&view, have_view};

    {
      py::gil_scoped_release release;
      if (!env_) env_ = default_env();
      if (env_->settings().global_thread_pools) {
        if (intra_op_threads || inter_op_threads) {
          fail(Problem::Value, "this session's Env has global thread pools, so intra_op_threads and "
                               "inter_op_threads belong to the Env, not the Session");
        }
        options.DisablePerSessionThreads();
      } else {
        if (intra_op_threads) options.SetIntraOpNumThreads(*intra_op_threads);
        if (inter_op_threads) options.SetInterOpNumThreads(*inter_op_threads);
      }
      if (path) session_ = Ort::Session(env_->env(), path->c_str(), options);
      else session_ = Ort::Session(env_->env(), view.buf, static_cast<size_t>(view.len), options);
    }
    describe_signature();
  }

  ~Session() {
    if (session_) {
      py::gil_scoped_release release;
      destroy_session();
    }
  }

  void close() {
    release_deferred_sessions();
    if (closed_.exchange(true)) return;
    // The GIL is released while waiting: a run in flight needs it to finish.
    py::gil_scoped_release release;
    std::unique_lock<std::shared_mutex> lock(lifecycle_);
    while (async_runs_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    destroy_session();
  }

  bool closed() const { return closed_.load(); }

  // Optional arguments arrive as handles and are cast only when given: pybind11's casters probe a
  // None for foreign-module conversions, which costs an AttributeError per call.
  py::object run(py::handle feeds, py::handle outputs, py::handle out, py::handle timeout, py::handle cancel,
                 py::handle contract_arg) {
    ensure_open();
    Request request = parse_request(outputs, timeout, cancel, contract_arg);
    Call call(input_names_.size(), request);
    gather(call, feeds, request);
    if (!out.is_none()) bind_preallocated(out, call);

    RunControl control(request.token, request.timeout);
    StatusGuard status;
    const bool started = while_open([&] {
      control.start();
      status.status = api().Run(session_, control.options(), call.input_names.data(), call.inputs.data(),
                                call.n_run_inputs, call.output_names.data(), call.selected.size(), call.results.data());
      control.stop();
    });
    if (!started) fail(Problem::Closed, "the session was closed before the run started");
    if (status.status != nullptr) {
      control.raise_if_stopped();
      check(status.release());
    }
    return collect(call);
  }

  // The run on one of ONNX Runtime's intra-op threads (OrtApi::RunAsync): returns at once, and
  // `callback(result, error)` is called later on that thread, with the GIL held. Needs a session
  // with an intra-op thread pool (intra_op_threads other than 1); ONNX Runtime says so otherwise.
  void run_async(py::handle self, py::handle feeds, py::handle outputs, py::handle timeout, py::handle cancel,
                 py::handle contract_arg, py::handle callback) {
    release_deferred_sessions();
    ensure_open();
    if (!PyCallable_Check(callback.ptr())) fail(Problem::Kind, "callback must be callable");
    Request request = parse_request(outputs, timeout, cancel, contract_arg);
    auto call = std::make_unique<AsyncCall>(input_names_.size(), request);
    gather(*call, feeds, request);
    call->session = this;
    call->self = py::reinterpret_borrow<py::object>(self);
    call->callback = py::reinterpret_borrow<py::object>(callback);
    call->start();
    async_runs_.fetch_add(1);
    OrtStatus* status = nullptr;
    const bool started = while_open([&] {
      status = api().RunAsync(session_, call->options, call->input_names.data(), call->inputs.data(),
                              call->n_run_inputs, call->output_names.data(), call->selected.size(),
                              call->results.data(), &Session::on_async_done, call.get());
    });
    if (status != nullptr || !started) {
      // Never started: no callback will come.
      call->stop();
      count_run(-1, call->options);
      async_runs_.fetch_sub(1);
      if (!started) fail(Problem::Closed, "the session was closed before the run started");
      check(status);
    }
    call.release();  // owned by on_async_done from here on
  }

  py::list describe(bool inputs) const {
    const auto& names = inputs ? input_names_ : output_names_;
    const auto& types = inputs ? input_types_ : output_types_;
    py::list result;
    for (size_t i = 0; i < names.size(); ++i) result.append(py::make_tuple(model_text(names[i]), types[i].to_python()));
    return result;
  }

  py::dict metadata() {
    ensure_open();
    Ort::AllocatorWithDefaultOptions allocator;
    Ort::ModelMetadata meta = session_.GetModelMetadata();
    py::dict result;
    result["producer"] = model_text(meta.GetProducerNameAllocated(allocator).get());
    result["graph_name"] = model_text(meta.GetGraphNameAllocated(allocator).get());
    result["graph_description"] = model_text(meta.GetGraphDescriptionAllocated(allocator).get());
    result["domain"] = model_text(meta.GetDomainAllocated(allocator).get());
    result["description"] = model_text(meta.GetDescriptionAllocated(allocator).get());
    result["version"] = meta.GetVersion();
    py::dict custom;
    for (auto& key : meta.GetCustomMetadataMapKeysAllocated(allocator)) {
      custom[model_text(key.get())] = model_text(meta.LookupCustomMetadataMapAllocated(key.get(), allocator).get());
    }
    result["custom"] = custom;
    return result;
  }

  void set_contract(std::shared_ptr<Contract> contract) {
    if (contract && contract->owner != this) fail(Problem::Value, "that contract was compiled for another session");
    contract_ = std::move(contract);
  }

  std::shared_ptr<Contract> compile(py::sequence inputs, py::sequence outputs, py::sequence symbols,
                                    py::sequence check_computed) const {
    return compile_contract(this, input_names_, output_names_, inputs, outputs, symbols, check_computed);
  }

  Env env() const { return Env{env_}; }

 private:
  // Calls `body` with the GIL released and the session held open (close() waits for it); false,
  // without calling it, when the session was closed meanwhile.
  template <typename Body>
  bool while_open(Body&& body) {
    py::gil_scoped_release release;
    std::shared_lock<std::shared_mutex> lock(lifecycle_);
    if (closed_.load()) return false;
    body();
    return true;
  }

  void destroy_session() {
    if (generation_ != g_process_generation.load()) {
      // Made before a fork: its thread pools' threads live only in the parent, and tearing it down
      // here would wait on them forever. The child leaves it to the parent.
      session_.release();
    } else {
      session_ = Ort::Session(nullptr);
    }
  }

  void ensure_open() const {
    if (closed_.load()) fail(Problem::Closed, "the session is closed");
    if (generation_ != g_process_generation.load(std::memory_order_relaxed)) {
      fail(Problem::Closed, "the session was made in the parent of this forked process, and ONNX Runtime's "
                            "thread pools do not survive fork; make the session in the child, or pass it "
                            "pickled (it is rebuilt once per process)");
    }
  }

  void add_providers(Ort::SessionOptions& options, const std::vector<std::string>& providers) {
    char** names = nullptr;
    int count = 0;
    check(api().GetAvailableProviders(&names, &count));
    std::vector<std::string> available(names, names + count);
    check(api().ReleaseAvailableProviders(names, count));
    for (const auto& provider : providers) {
      if (std::find(available.begin(), available.end(), provider) == available.end()) {
        std::string list;
        for (const auto& a : available) list += (list.empty() ? "" : ", ") + quoted(a);
        fail(Problem::Value, "execution provider " + quoted(provider) +
                                 " is not in this ONNX Runtime; it has " + list);
      }
      // The CPU provider is always last in line and needs no registration.
      if (provider != "CPUExecutionProvider") options.AppendExecutionProvider(provider, {});
    }
  }

  void describe_signature() {
    Ort::AllocatorWithDefaultOptions allocator;
    const size_t n_in = session_.GetInputCount();
    const size_t n_out = session_.GetOutputCount();
    py::dict input_index, output_index;
    for (size_t i = 0; i < n_in; ++i) {
      input_names_.emplace_back(session_.GetInputNameAllocated(i, allocator).get());
      input_types_.push_back(describe_type(session_.GetInputTypeInfo(i).GetConst()));
      input_index[model_text(input_names_.back())] = i;
    }
    for (size_t i = 0; i < n_out; ++i) {
      output_names_.emplace_back(session_.GetOutputNameAllocated(i, allocator).get());
      output_types_.push_back(describe_type(session_.GetOutputTypeInfo(i).GetConst()));
      output_keys_.emplace_back(model_text(output_names_.back()));
      output_index[output_keys_.back()] = i;
    }
    // Pointers into the strings above: built after every string is in place.
    for (const auto& name : input_names_) input_name_ptrs_.push_back(name.c_str());
    for (const auto& name : output_names_) output_name_ptrs_.push_back(name.c_str());
    input_index_ = std::move(input_index);
    output_index_ = std::move(output_index);
  }

  size_t lookup(PyObject* key, const py::dict& index, const std::vector<std::string>& names, const char* role) const {
    if (!PyUnicode_Check(key)) {
      fail(Problem::Name, std::string(role) + " names must be str, not " + Py_TYPE(key)->tp_name + " " +
                              py::repr(key).cast<std::string>());
    }
    PyObject* found = PyDict_GetItemWithError(index.ptr(), key);
    if (found == nullptr) {
      if (PyErr_Occurred()) throw py::error_already_set();
      fail(Problem::Name, py::module_::import("ortbind._convert").attr("unknown_message")(role, py::handle(key), names)
                              .cast<std::string>());
    }
    return PyLong_AsSize_t(found);
  }

  size_t input_index(PyObject* key) const { return lookup(key, input_index_, input_names_, "input"); }
  size_t output_index(PyObject* key) const { return lookup(key, output_index_, output_names_, "output"); }

  Request parse_request(py::handle outputs, py::handle timeout, py::handle cancel, py::handle contract_arg) const {
    Request request;
    if (!contract_arg.is_none()) {
      if (!py::isinstance<Contract>(contract_arg))
        fail(Problem::Kind, std::string("contract must be a CompiledContract, not ") + Py_TYPE(contract_arg.ptr())->tp_name);
      request.contract_hold = made_shared<Contract>(contract_arg, "CompiledContract");
    }
    // Held for the whole run: _set_contract may replace the session's while the GIL is released.
    if (!request.contract_hold) request.contract_hold = contract_;
    request.contract = request.contract_hold.get();
    if (request.contract != nullptr && request.contract->owner != this)
      fail(Problem::Value, "that contract was compiled for another session");
    if (!cancel.is_none()) {
      if (!py::isinstance<CancelToken>(cancel))
        fail(Problem::Kind, std::string("cancel must be a CancelToken, not ") + Py_TYPE(cancel.ptr())->tp_name);
      request.token = made_shared<CancelToken>(cancel, "ortbind.CancelToken");
    }
    if (!timeout.is_none()) {
      if (PyBool_Check(timeout.ptr()) || !(PyFloat_Check(timeout.ptr()) || PyLong_Check(timeout.ptr())))
        fail(Problem::Kind, std::string("timeout must be a number of seconds, not ") + Py_TYPE(timeout.ptr())->tp_name);
      request.timeout = timeout.cast<double>();
      if (!(request.timeout >= 0.0 && request.timeout < 1e9))
        fail(Problem::Value, "timeout must be a number of seconds >= 0, not " + py::repr(timeout).cast<std::string>());
    }
    request.n_outputs = output_names_.size();
    if (!outputs.is_none()) {
      if (py::isinstance<py::str>(outputs) || py::isinstance<py::bytes>(outputs))
        fail(Problem::Kind, "outputs must be a sequence of output names, not one str");
      request.requested = py::reinterpret_steal<py::object>(
          PySequence_Fast(outputs.ptr(), "outputs must be a sequence of output names"));
      if (!request.requested) throw py::error_already_set();
      request.n_outputs = static_cast<size_t>(PySequence_Fast_GET_SIZE(request.requested.ptr()));
    }
    return request;
  }

  // Converts the feeds into the call's input values (checking the contract) and resolves the
  // requested outputs.
  void gather(Call& call, py::handle feeds, const Request& request) {
    const size_t n_inputs = input_names_.size();
    if (PyDict_Check(feeds.ptr())) {
      PyObject* key = nullptr;
      PyObject* value = nullptr;
      Py_ssize_t pos = 0;
      while (PyDict_Next(feeds.ptr(), &pos, &key, &value)) {
        // Owned for the call: converting a value may run Python code that changes the dict.
        py::object owned_key = py::reinterpret_borrow<py::object>(key);
        py::object owned_value = py::reinterpret_borrow<py::object>(value);
        add_input(input_index(key), value, call);
      }
    } else if (PyArray_Check(feeds.ptr()) && n_inputs == 1) {
      add_input(0, feeds.ptr(), call);
    } else if (py::isinstance<py::dict>(feeds) || py::hasattr(feeds, "keys")) {
      for (auto item : py::reinterpret_borrow<py::object>(feeds).attr("items")()) {
        auto pair = item.cast<py::tuple>();
        add_input(input_index(pair[0].ptr()), pair[1].ptr(), call);
      }
    } else {
      fail(Problem::Kind, std::string("feeds must be a dict of input name to value") +
                              (n_inputs == 1 ? " (or one array for this single-input model)" : "") +
                              ", not " + Py_TYPE(feeds.ptr())->tp_name);
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
      } else if (input_types_[i].kind != ONNX_TYPE_OPTIONAL) {
        missing.push_back(input_names_[i]);
      }
    }
    if (!missing.empty()) {
      fail(Problem::Name, py::module_::import("ortbind._convert").attr("missing_message")(missing, input_names_)
                              .cast<std::string>());
    }

    // Outputs: the model's order, or the caller's.
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

  void add_input(size_t index, PyObject* value, Call& call) {
    if (call.inputs[index] != nullptr) fail(Problem::Name, "input " + quoted(input_names_[index]) + " is given twice");
    const ValueType& type = input_types_[index];
    if (type.kind == ONNX_TYPE_OPTIONAL && value == Py_None) return;  // absent: left out of the run
    if (type.kind != ONNX_TYPE_TENSOR) {
      call.inputs[index] = value_from_python(value, type, "input", input_names_[index], call.keep);
      return;
    }
    ONNXTensorElementDataType element = type.element;
    // An array's shape is checked before anything is copied or converted: a broadcast view of a
    // huge shape must fail as a ShapeError, not as the MemoryError of its copy.
    const bool checked_early = call.contract != nullptr && PyArray_Check(value);
    if (checked_early) {
      auto* given = reinterpret_cast<PyArrayObject*>(value);
      call.bindings->check(call.contract->inputs[index], true, index, PyArray_DIMS(given), PyArray_NDIM(given));
    }
    py::object array = input_array(value, element, "input", input_names_[index]);
    auto* arr = reinterpret_cast<PyArrayObject*>(array.ptr());
    if (call.contract != nullptr && !checked_early)
      call.bindings->check(call.contract->inputs[index], true, index, PyArray_DIMS(arr), PyArray_NDIM(arr));
    call.inputs[index] = tensor_over_array(arr, element);
    call.keep.add(std::move(array));
  }

  void bind_preallocated(py::handle out, Call& call) {
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
      if (slot == selected.size()) fail(Problem::Name, "out names output " + quoted(name) + ", which this run does not request");
      const ValueType& type = output_types_[index];
      if (type.kind != ONNX_TYPE_TENSOR || type.element == ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING)
        fail(Problem::Kind, "output " + quoted(name) + " is a " + type.describe() + "; only numeric tensors can be preallocated");
      if (!PyArray_Check(value))
        fail(Problem::Kind, "out[" + quoted(name) + "] must be a numpy array, not " + Py_TYPE(value)->tp_name);
      auto* arr = reinterpret_cast<PyArrayObject*>(value);
      if (!dtype_matches(PyArray_DESCR(arr), type.element))
        fail(Problem::DType, "out[" + quoted(name) + "] has dtype " + dtype_name(PyArray_DESCR(arr)) + ", but output " +
                                 quoted(name) + " is " + element_name(type.element));
      if (!PyArray_CHKFLAGS(arr, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED) || !PyArray_ISNOTSWAPPED(arr))
        fail(Problem::Value, "out[" + quoted(name) + "] must be C-contiguous, aligned and in native byte order: "
                             "the run writes into its buffer");
      if (!PyArray_ISWRITEABLE(arr)) fail(Problem::Value, "out[" + quoted(name) + "] is read-only");
      if (call.contract != nullptr)
        call.bindings->check(call.contract->outputs[index], false, index, PyArray_DIMS(arr), PyArray_NDIM(arr));
      call.results[slot] = tensor_over_array(arr, type.element);
      call.preallocated[slot] = value;
      call.keep.add(py::reinterpret_borrow<py::object>(value));
    }
  }

  py::object collect(Call& call) {
    auto& selected = call.selected;
    py::object result = g_result_type != nullptr
                            ? py::reinterpret_steal<py::object>(PyDict_Type.tp_new(g_result_type, empty_args().ptr(), nullptr))
                            : py::reinterpret_steal<py::object>(PyDict_New());
    if (!result) throw py::error_already_set();
    std::optional<std::string> broken;
    for (size_t k = 0; k < selected.size(); ++k) {
      const size_t index = selected[k];
      py::object value;
      if (call.preallocated[k] != nullptr) {
        value = py::reinterpret_borrow<py::object>(call.preallocated[k]);
      } else {
        value = value_to_python(call.results.take(k), "output", output_names_[index]);
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
      if (PyDict_SetItem(result.ptr(), output_keys_[index].ptr(), value.ptr()) != 0)
        throw py::error_already_set();
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

  // ONNX Runtime's callback for run_async, on one of its intra-op threads.
  static void on_async_done(void* user_data, OrtValue** outputs, size_t n_outputs, OrtStatusPtr status) {
    std::unique_ptr<AsyncCall> call(static_cast<AsyncCall*>(user_data));
    Session* session = call->session;
    if (outputs != call->results.data()) {
      for (size_t k = 0; k < n_outputs && k < call->selected.size(); ++k) call->results[k] = outputs[k];
    }
    call->stop();  // detaches the options from the token and the timer
    // Released last, after the run stops being counted: interpreter exit may still terminate it.
    OrtRunOptions* options = std::exchange(call->options, nullptr);
    if (interpreter_finalizing()) {
      // Python is going away: nothing may touch it now, so everything of the call is left as it is.
      discard(status);
      session->async_runs_.fetch_sub(1);
      call.release();
      count_run(-1, options);
      return;
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    {
      py::object result = py::none();
      py::object error = py::none();
      try {
        if (status != nullptr) {
          OrtStatus* failed = std::exchange(status, nullptr);
          call->raise_if_stopped();
          check(failed);
        }
        result = session->collect(*call);
      } catch (py::error_already_set& e) {
        error = e.value();
      } catch (...) {
        py::detail::try_translate_exceptions();
        PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
        PyErr_Fetch(&type, &value, &traceback);
        PyErr_NormalizeException(&type, &value, &traceback);
        error = py::reinterpret_steal<py::object>(value);
        Py_XDECREF(type);
        Py_XDECREF(traceback);
      }
      discard(status);
      try {
        call->callback(result, error, call->self);
      } catch (py::error_already_set& e) {
        e.discard_as_unraisable("ortbind run_async callback");
      }
      session->async_runs_.fetch_sub(1);
      if (Py_REFCNT(call->self.ptr()) == 1) g_deferred_sessions.push_back(call->self.release().ptr());
      call.reset();
    }
    PyGILState_Release(gil);
    count_run(-1, options);
    api().ReleaseRunOptions(options);
  }

  static const py::tuple& empty_args() {
    static py::tuple* empty = new py::tuple();
    return *empty;
  }

  // Declared first, destroyed last: the environment outlives the session that runs in it.
  std::shared_ptr<EnvCore> env_;
  Ort::Session session_{nullptr};
  std::vector<std::string> input_names_, output_names_;
  std::vector<const char*> input_name_ptrs_, output_name_ptrs_;
  std::vector<ValueType> input_types_, output_types_;
  py::dict input_index_, output_index_;  // name -> position, looked up with the caller's str
  std::vector<py::str> output_keys_;     // the result's keys, made once
  std::shared_ptr<Contract> contract_;   // the model's contract, set by the Python layer
  // Runs hold it shared for the length of Run; close() takes it exclusively, so it waits for runs
  // in flight and never frees the session under one.
  mutable std::shared_mutex lifecycle_;
  std::atomic<bool> closed_{false};
  std::atomic<int> async_runs_{0};  // run_async calls whose callback has not finished
  const unsigned generation_ = g_process_generation.load();
};

Session& session_of(py::handle self) { return made<Session>(self, "ortbind.Session"); }

// Session.run as a METH_FASTCALL method: pybind11's general dispatcher allocates argument vectors
// on every call, and run is the hot path. Same signature as documented:
// run(feeds, outputs=None, *, out=None, timeout=None, cancel=None, contract=None).
// The run signature, written once: the parser below and the docstring's text signature (which
// inspect.signature reads, and stubtest checks _core.pyi against) both come from this table.
constexpr const char* kNames[] = {"feeds", "outputs", "out", "timeout", "cancel", "contract"};
constexpr Py_ssize_t kCount = 6;
constexpr Py_ssize_t kPositional = 2;
constexpr Py_ssize_t kRequired = 1;

std::string run_signature() {
  std::string text = "($self";
  for (Py_ssize_t i = 0; i < kCount; ++i) {
    if (i == kPositional) text += ", *";
    text += std::string(", ") + kNames[i] + (i < kRequired ? "" : "=None");
  }
  return text + ")";
}

PyObject* run_fastcall(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* values[kCount] = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  if (nargs > kPositional) {
    PyErr_Format(PyExc_TypeError, "run() takes at most 2 positional arguments (feeds, outputs), %zd given", nargs);
    return nullptr;
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) values[i] = args[i];
  const Py_ssize_t n_keywords = kwnames != nullptr ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < n_keywords; ++k) {
    PyObject* key = PyTuple_GET_ITEM(kwnames, k);
    Py_ssize_t slot = -1;
    for (Py_ssize_t j = 0; j < kCount; ++j) {
      if (PyUnicode_CompareWithASCIIString(key, kNames[j]) == 0) slot = j;
    }
    if (slot < 0) {
      PyErr_Format(PyExc_TypeError, "run() got an unexpected keyword argument %R", key);
      return nullptr;
    }
    if (values[slot] != nullptr) {
      PyErr_Format(PyExc_TypeError, "run() got multiple values for argument '%s'", kNames[slot]);
      return nullptr;
    }
    values[slot] = args[nargs + k];
  }
  if (values[0] == nullptr) {
    PyErr_SetString(PyExc_TypeError, "run() missing required argument 'feeds'");
    return nullptr;
  }
  for (auto& value : values)
    if (value == nullptr) value = Py_None;
  try {
    // The method descriptor has already checked that self is a Session; only whether __init__ ran
    // remains, looked up with the type's record found once.
    static py::detail::type_info* const type = py::detail::get_type_info(typeid(Session));
    auto holder = reinterpret_cast<py::detail::instance*>(self)->get_value_and_holder(type);
    Session& session = holder && holder.holder_constructed() && holder.value_ptr() != nullptr
                           ? *static_cast<Session*>(holder.value_ptr())
                           : session_of(self);
    return session.run(values[0], values[1], values[2], values[3], values[4], values[5]).release().ptr();
  } catch (py::error_already_set& error) {
    error.restore();
  } catch (...) {
    py::detail::try_translate_exceptions();
  }
  return nullptr;
}

void bind_session(py::module_& m) {
  pthread_atfork(nullptr, nullptr, [] { g_process_generation.fetch_add(1); });
  m.def("_set_result_type", [](py::handle type) {
    if (!PyType_Check(type.ptr()) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(type.ptr()), &PyDict_Type))
      fail(Problem::Kind, "the result type must be a dict subclass");
    Py_INCREF(type.ptr());  // kept for the life of the process
    g_result_type = reinterpret_cast<PyTypeObject*>(type.ptr());
  }, "_set_result_type(type)\n--\n\nThe dict subclass that runs return (ortbind.Result).");

  py::class_<Session> cls(m, "Session", py::dynamic_attr(),
                          "Session(model, *, env=None, providers=None, optimization='all', intra_op_threads=None, "
                          "inter_op_threads=None, execution_mode='sequential', free_dimensions={}, config={})\n--\n\n"
                          "The native session; use ortbind.Session.");
  cls
      .def(py::init<py::handle, py::handle, std::optional<std::vector<std::string>>, const std::string&,
                    std::optional<int>, std::optional<int>, const std::string&, std::map<std::string, int64_t>,
                    std::map<std::string, std::string>>(),
           py::arg("model"), py::kw_only(), py::arg("env") = py::none(), py::arg("providers") = py::none(),
           py::arg("optimization") = "all", py::arg("intra_op_threads") = py::none(),
           py::arg("inter_op_threads") = py::none(), py::arg("execution_mode") = "sequential",
           py::arg("free_dimensions") = std::map<std::string, int64_t>{},
           py::arg("config") = std::map<std::string, std::string>{},
           "__init__(self, model, *, env=None, providers=None, optimization='all', intra_op_threads=None, "
           "inter_op_threads=None, execution_mode='sequential', free_dimensions={}, config={})\n--\n\n"
           "Loads the model (a path or bytes-like) with the GIL released.")
      .def("close", [](py::handle self) { session_of(self).close(); },
           "close(self)\n--\n\nReleases the session once its runs in flight are over; later runs raise ClosedError.")
      .def_property_readonly("closed", [](py::handle self) { return session_of(self).closed(); })
      .def_property_readonly("env", [](py::handle self) { return session_of(self).env(); })
      .def("_describe", [](py::handle self, bool inputs) { return session_of(self).describe(inputs); },
           py::arg("inputs"), "_describe(self, inputs)\n--\n\n(name, type) of each input or output.")
      .def("_metadata", [](py::handle self) { return session_of(self).metadata(); },
           "_metadata(self)\n--\n\nThe model's metadata as a dict.")
      .def("_set_contract",
           [](py::handle self, py::handle contract) {
             session_of(self).set_contract(contract.is_none() ? nullptr : made_shared<Contract>(contract, "CompiledContract"));
           },
           "_set_contract(self, contract)\n--\n\nThe contract every run checks unless given another.")
      .def("_compile_contract",
           [](py::handle self, py::sequence inputs, py::sequence outputs, py::sequence symbols,
              py::sequence check_computed) { return session_of(self).compile(inputs, outputs, symbols, check_computed); },
           py::arg("inputs"), py::arg("outputs"), py::arg("symbols"), py::arg("check_computed"),
           "_compile_contract(self, inputs, outputs, symbols, check_computed)\n--\n\n"
           "A CompiledContract for this session (see ortbind.contracts).")
      .def("_run_async",
           [](py::object self, py::handle feeds, py::handle outputs, py::handle timeout, py::handle cancel,
              py::handle contract, py::handle callback) {
             session_of(self).run_async(self, feeds, outputs, timeout, cancel, contract, callback);
           },
           py::arg("feeds"), py::arg("outputs") = py::none(), py::kw_only(), py::arg("timeout") = py::none(),
           py::arg("cancel") = py::none(), py::arg("contract") = py::none(), py::arg("callback"),
           "_run_async(self, feeds, outputs=None, *, timeout=None, cancel=None, contract=None, callback)\n--\n\n"
           "Starts the run on one of ONNX Runtime's threads; callback(result, error, session) gets its end.");

  static const std::string run_doc = "run" + run_signature() +
                                     "\n--\n\nRuns the model: feeds maps input names to values; outputs names "
                                     "the outputs wanted, in order.";
  static PyMethodDef run_def = {
      "run", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(run_fastcall)), METH_FASTCALL | METH_KEYWORDS,
      run_doc.c_str()};
  py::object run = py::reinterpret_steal<py::object>(PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), &run_def));
  if (!run) throw py::error_already_set();
  cls.attr("run") = run;
}

}  // namespace ortbind
