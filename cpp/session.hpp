// ortbind.Session's native half: owns one Ort::Session, describes its signature, and runs it. Its
// jobs live in their own files, split the way pykeio/ort splits its session:
//   session_create.cpp  options, loading the model, signature and metadata, close, fork
//   session_run.cpp     one run: its request, inputs, preallocated outputs and results
//   session_async.cpp   run_async over OrtApi::RunAsync, and the callback's end of it
//   session_bind.cpp    the Python class, with run's fastcall parser and signature table
#pragma once
#include "common.hpp"

#include "cancel_token.hpp"
#include "contract.hpp"
#include "env.hpp"
#include "loading.hpp"
#include "output_pool.hpp"
#include "runs_in_flight.hpp"
#include "run_values.hpp"
#include "types.hpp"
#include "value.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace ortbind {

// A run's options, read from its arguments.
struct Request {
  std::shared_ptr<Contract> contract_hold;  // the caller's contract or the session's, kept for the run
  const Contract* contract = nullptr;
  std::shared_ptr<CancelToken> token;
  double timeout = -1.0;
  py::object requested;  // the caller's output names (a list or tuple), or none for the model's
  size_t n_outputs = 0;
  std::vector<std::shared_ptr<LoraAdapter>> adapters;  // activated for this run only
};

// One run from its feeds to its outputs: the input values and what they view, the names, the
// output slots and the symbol bindings. On the stack for run(); on the heap for run_async(). Never
// copied: it owns values and references.
struct Call {
  Call(size_t n_inputs, const Request& request)
      : inputs(n_inputs),
        input_names(n_inputs, nullptr),
        selected(request.n_outputs, 0),
        output_names(request.n_outputs, nullptr),
        results(request.n_outputs),
        preallocated(request.n_outputs, nullptr),
        input_arrays(n_inputs, nullptr),
        contract(request.contract) {
    if (contract != nullptr) bindings.emplace(*contract);
  }

  RunValues inputs;
  KeepAlive keep;  // the arrays whose buffers the input values view, until Run returns
  SmallArray<const char*, kRunValuesInline> input_names;
  size_t n_run_inputs = 0;
  SmallArray<size_t, kRunValuesInline> selected;
  SmallArray<const char*, kRunValuesInline> output_names;
  RunValues results;
  SmallArray<PyObject*, kRunValuesInline> preallocated;  // borrowed: `keep` holds them
  // Each tensor input's array in the model's order (borrowed: `keep` holds them), null when left
  // out; `only_tensors` is false once an input of another kind is fed (no shapes to key outputs on).
  SmallArray<PyArrayObject*, kRunValuesInline> input_arrays;
  bool only_tensors = true;
  OutputPool::Lease pool;  // where the outputs' buffers go back once Python drops them
  const Contract* contract;
  std::optional<Bindings> bindings;
};

// timeout= and cancel= of a run, read into its request.
void read_stop_arguments(Request& request, py::handle timeout, py::handle cancel);

struct AsyncCall;  // session_async.cpp
class Binding;     // binding.cpp

class Session {
 public:
  Session(py::handle model, py::handle env, py::handle providers, const std::string& optimization,
          std::optional<int> intra_op_threads, std::optional<int> inter_op_threads, const std::string& execution_mode,
          std::map<std::string, int64_t> free_dimensions, std::map<std::string, std::string> config,
          std::optional<std::string> profile, std::vector<std::string> custom_op_libraries,
          py::handle prepacked_weights, py::handle initializers, py::handle external_data,
          std::optional<bool> cpu_arena, std::optional<bool> memory_pattern, std::optional<bool> reuse_outputs);
  ~Session();
  // Python owns the one instance; runs point at it.
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void close();
  bool closed() const { return closed_.load(); }

  // Optional arguments arrive as handles and are cast only when given: pybind11's casters probe a
  // None for foreign-module conversions, which costs an AttributeError per call.
  py::object run(py::handle feeds, py::handle outputs, py::handle out, py::handle timeout, py::handle cancel,
                 py::handle adapters, py::handle contract_arg);
  // The run on one of ONNX Runtime's intra-op threads (OrtApi::RunAsync): returns at once, and
  // `callback(result, error, session)` is called later on that thread, with the GIL held. Needs a
  // session with an intra-op thread pool (intra_op_threads other than 1); ONNX Runtime says so
  // otherwise. `self` is the Python Session, held until the callback has returned.
  void run_async(py::handle self, py::handle feeds, py::handle outputs, py::handle timeout, py::handle cancel,
                 py::handle adapters, py::handle contract_arg, py::handle callback);

  py::list describe(bool inputs) const;
  py::list describe_overridable() const;
  py::dict metadata();
  void set_contract(std::shared_ptr<Contract> contract);
  std::shared_ptr<Contract> compile(py::sequence inputs, py::sequence outputs, py::sequence symbols,
                                    py::sequence check_computed) const;
  Env env() const { return Env{env_}; }
  // ONNX Runtime's profiler (profile= at creation): ends it, writes its JSON file and returns that
  // file's path ("" when profiling was not enabled).
  std::string end_profiling();
  uint64_t profiling_start_ns() const;

 private:
  // Calls `body` with the GIL released and the session held open (close() waits for it); false,
  // without calling it, when the session was closed meanwhile.
  template <typename Body>
  bool while_open(Body&& body) {
    GilReleased release;
    std::shared_lock<std::shared_mutex> lock(lifecycle_);
    if (closed_.load()) return false;
    body();
    return true;
  }

  // session_create.cpp
  void describe_signature();
  void ensure_open() const;
  void destroy_session();

  // session_run.cpp
  size_t lookup(PyObject* key, const py::dict& index, const std::vector<std::string>& names, const char* role) const;
  size_t input_index(PyObject* key) const { return lookup(key, input_index_, input_names_, "input"); }
  size_t output_index(PyObject* key) const { return lookup(key, output_index_, output_names_, "output"); }
  Request parse_request(py::handle outputs, py::handle timeout, py::handle cancel, py::handle adapters,
                        py::handle contract_arg) const;
  void gather_inputs(Call& call, py::handle feeds, const std::vector<char>* prebound = nullptr);
  void select_outputs(Call& call, const Request& request);
  void add_input(size_t index, PyObject* value, Call& call, const std::vector<char>* prebound);
  void bind_preallocated(py::handle out, Call& call);
  // `keys`: a dict of the result's keys in order, or null to insert them one by one. Its values are
  // None, or, with `keys_hold_preallocated`, the preallocated outputs' arrays (a Binding's, the
  // same every run) and None for the others.
  py::object collect(Call& call, PyObject* keys = nullptr, bool keys_hold_preallocated = false);
  static constexpr size_t kKeysTemplateFrom = 8;  // outputs; below it, inserting is as fast

  // session_async.cpp
  static void on_async_done(void* user_data, OrtValue** outputs, size_t n_outputs, OrtStatusPtr status);
  friend struct AsyncCall;
  friend class Binding;  // runs the session through its own OrtIoBindings

  // Declared first, destroyed last: the environment outlives the session that runs in it.
  std::shared_ptr<EnvCore> env_;
  // Declared before session_, so released after it: ONNX Runtime uses both for the session's life.
  std::shared_ptr<PrepackedWeights> prepacked_;      // shared with the other sessions made with it
  std::shared_ptr<InitializerArrays> initializers_;  // the caller's arrays, read in place
  Ort::Session session_{nullptr};
  // The outputs' buffers run() passes back to Run (output_pool.hpp); off once closed.
  std::unique_ptr<OutputPool> pool_;
  // The model's inputs, then its overridable initializers (fed by name like inputs, never missing).
  std::vector<std::string> input_names_, output_names_;
  size_t n_model_inputs_ = 0;
  std::vector<const char*> input_name_ptrs_, output_name_ptrs_;
  std::vector<ValueType> input_types_, output_types_;
  std::vector<char> output_is_input_;    // per output: named like an input (see the constructor)
  py::dict input_index_, output_index_;  // name -> position, looked up with the caller's str
  std::vector<py::str> output_keys_;     // the result's keys, made once
  py::dict all_keys_;                    // every output's key in the model's order, values None
  std::shared_ptr<Contract> contract_;   // the model's contract, set by the Python layer
  // Runs hold it shared for the length of Run; close() takes it exclusively, so it waits for runs
  // in flight and never frees the session under one.
  mutable std::shared_mutex lifecycle_;
  std::atomic<bool> closed_{false};
  std::atomic<int> async_runs_{0};  // run_async calls whose callback has not returned
  const unsigned generation_;       // fork_generation() when made: its thread pools are this process's
};

// The dict subclass runs return (ortbind.Result, registered by the Python package); a plain dict
// until then. Kept for the life of the process.
void set_result_type(PyTypeObject* type);

// Releases the Python sessions whose last reference a runtime thread would have dropped
// (session_async.cpp). Called with the GIL held.
void release_deferred_sessions();

}  // namespace ortbind
