// ortbind.Binding: a session's bound path. Runs go through OrtApi::RunWithBinding on an OrtIoBinding
// kept across calls (one per thread that uses the binding), so ONNX Runtime does not rebuild its
// feed and fetch plan from names on every call. Inputs are either bound once to arrays the caller
// refills in place, or given per call; outputs are either bound once to preallocated arrays or left
// to ONNX Runtime, which allocates fresh ones on every run (or writes into the buffers of outputs
// Python has dropped, bound for it: output_pool.hpp). Each run goes through the run pipeline.
#pragma once
#include "common.hpp"

#include "session/contract.hpp"
#include "values/run_values.hpp"
#include "values/value.hpp"

#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace ortbind {

class Session;
class StopControl;

class Binding {
 public:
  // `session` is the Python Session; `contract` a CompiledContract or None for the session's.
  Binding(py::handle session, py::handle outputs, py::handle out, py::handle inputs, py::handle contract);
  ~Binding();
  Binding(const Binding&) = delete;
  Binding& operator=(const Binding&) = delete;

  py::object run(py::handle feeds, const struct RunArguments& arguments);
  py::tuple bound_inputs() const;
  py::tuple outputs() const;
  py::object session() const { return session_object_; }

  // One thread's OrtIoBinding and what its per-call inputs view.
  struct Slot {
    OrtIoBinding* io = nullptr;
    std::vector<char> fed;  // the inputs the last call bound per call (ClearBoundInputs when this changes)
    bool prepared = false;  // the inputs bound once and the outputs are bound in `io`
    ~Slot();
  };
  // The array of output values GetBoundOutputValues hands over, given back to its allocator.
  struct Produced {
    OrtAllocator* allocator = nullptr;
    OrtValue** values = nullptr;
    size_t count = 0;
    ~Produced();
  };
  // One run's inputs as this binding feeds them: per model input, given in this call.
  using Fed = SmallArray<char, 64>;

 private:
  void bind_inputs_once(py::handle inputs, struct Call& call);
  void check_bound(struct Call& call) const;
  Slot& this_thread_slot();
  OrtStatus* prepare(Slot& slot, struct Call& call, const Fed& fed);
  OrtStatus* launch(Slot& slot, struct Call& call, const Fed& fed, RunValues& passed, Produced& produced,
                    StopControl& stop);
  OrtStatus* fetch_outputs(Slot& slot, Produced& produced);

  py::object session_object_;  // the Python Session: keeps the session, and through it the Env, alive
  const Session& session_;
  std::shared_ptr<Contract> contract_;    // checked on every run, as run() checks the session's
  std::vector<size_t> selected_;          // output indices, in the result's order
  std::vector<char> is_bound_;            // per model input: bound once
  std::vector<size_t> bound_;             // those inputs' indices
  std::vector<py::object> bound_arrays_;  // the caller's arrays the bound inputs view
  std::vector<OwnedValue> bound_values_;
  std::vector<std::vector<int64_t>> bound_dims_;  // their shapes when bound: what ONNX Runtime sees
  // Per model input: its bound shape in bound_dims_, or null when given per call (the pool's key).
  std::vector<const std::vector<int64_t>*> dims_by_input_;
  std::vector<py::object> out_arrays_;  // per selected output: its preallocated array, or empty
  std::vector<OwnedValue> out_values_;
  std::vector<std::vector<int64_t>> out_dims_;  // their shapes, checked against each call's symbols
  bool settled_ = false;   // the contract holds for every run (all inputs bound, no output checked)
  bool has_out_ = false;   // some output is preallocated
  bool computes_ = false;  // some output is left to ONNX Runtime, so the run's values are read back
  py::object keys_;        // many outputs: the result's keys in order (collect())
  std::mutex slots_mutex_;
  std::unordered_map<std::thread::id, std::unique_ptr<Slot>> slots_;
  // Held by the run of a binding with preallocated outputs: a second thread's run is refused, since
  // it would write the arrays the first one is returning.
  std::mutex out_turn_;
};

}  // namespace ortbind
