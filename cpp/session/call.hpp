// One run's values, from its feeds to its outputs: the input values and the arrays they view, the
// names, the output slots, the symbols the contract bound. On the stack for run() and Binding.run;
// on the heap for run_async(). Never copied: it owns values and references.
#pragma once
#include "common.hpp"

#include "session/contract.hpp"
#include "session/request.hpp"
#include "session/signature.hpp"
#include "values/output_pool.hpp"
#include "values/run_values.hpp"
#include "values/value.hpp"

#include <optional>
#include <vector>

namespace ortbind {

struct Call {
  Call(size_t n_inputs, const Request& request)
      : inputs(n_inputs),
        input_names(n_inputs, nullptr),
        selected(request.n_outputs, 0),
        output_names(request.n_outputs, nullptr),
        results(request.n_outputs),
        preallocated(request.n_outputs, nullptr),
        input_arrays(n_inputs, nullptr),
        contract(request.contract.get()) {
    if (contract != nullptr) symbols.emplace(*contract);
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

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
  OutputPool::Lease pool;    // where the outputs' buffers go back once Python drops them
  const Contract* contract;  // the request holds it
  std::optional<SymbolTable> symbols;
};

// feeds.cpp: the run's inputs and outputs, checked against the model and the contract.
// Converts the feeds into the call's input values. Inputs marked in `prebound` (a Binding's inputs
// bound once) are neither taken from the feeds nor missing.
void gather_inputs(const Signature& signature, Call& call, py::handle feeds,
                   const std::vector<char>* prebound = nullptr);
// The outputs the run computes: the model's order, or the caller's.
void select_outputs(const Signature& signature, Call& call, const Request& request);
// out={name: array}: the run writes those outputs into the caller's arrays.
void use_preallocated(const Signature& signature, Call& call, py::handle out);

// results.cpp: the outputs as a Result (or dict) in the requested order, each computed output taking
// ownership of its OrtValue. `keys`: a dict of the result's keys in order, or null to insert them one
// by one; its values are None, or, with `keys_hold_preallocated`, the preallocated outputs' arrays
// (a Binding's, the same every run) and None for the others.
py::object collect(const Signature& signature, Call& call, PyObject* keys = nullptr,
                   bool keys_hold_preallocated = false);
// Outputs from which a dict of the keys made once is cloned; below it, inserting is as fast.
constexpr size_t kKeysTemplateFrom = 8;

}  // namespace ortbind
