// Shape contracts: the rules a run's shapes must follow (fixed dims, symbols bound consistently
// across inputs, bounds), compiled once per session from contracts.py's rules and checked in C++.
#pragma once
#include "common.hpp"

#include <memory>
#include <vector>

namespace ortbind {

// One dim of a contract: a fixed size, a named symbol bound per call, or anything.
struct DimRule {
  int64_t fixed = -1;
  int symbol = -1;
};

// The shape rule for one tensor input or output. Element types need no rule here: a contract's
// dtypes must equal the model's (contracts.py), and the model's are always checked (value.cpp).
struct TensorRule {
  bool has_shape = false;
  std::vector<DimRule> dims;
};

// A compiled shape contract for one session: built once (contracts.py turns the model's signature
// and the user's declarations into it), checked on every call with no allocation beyond the
// per-call symbol table.
class Contract {
 public:
  const void* owner = nullptr;  // the session it was compiled for
  std::vector<std::string> input_names, output_names;
  std::vector<TensorRule> inputs, outputs;
  // Per output: whether a computed output is checked after the run. A preallocated output is
  // always checked before it (ONNX Runtime refuses one that breaks the model's declaration), but
  // the model's declared shapes of computed outputs are often wrong and never fail a run; only
  // what a user declared does.
  std::vector<bool> check_computed;
  std::vector<std::string> symbols;
  std::vector<int64_t> lower, upper;  // inclusive bounds per symbol

  std::string shape_text(const TensorRule& rule) const;
};

// The symbol values of one call (batch=8), and which value set each first. Neither copied nor moved: values_ and
// bound_by_ may point into the object's own inline arrays, which a copy would leave pointing into
// the original.
class SymbolTable {
 public:
  explicit SymbolTable(const Contract& contract);
  SymbolTable(const SymbolTable&) = delete;
  SymbolTable& operator=(const SymbolTable&) = delete;
  // ShapeError naming the value, the dim and, for a symbol, the value that bound it first.
  void check(const TensorRule& rule, bool is_input, size_t index, const npy_intp* dims, int ndim);
  void check(const TensorRule& rule, bool is_input, size_t index, const int64_t* dims, size_t ndim);

 private:
  template <typename Dim>
  void check_dims(const TensorRule& rule, bool is_input, size_t index, const Dim* dims, size_t ndim);
  std::string value_name(bool is_input, size_t index) const;

  const Contract& contract_;
  // Small fixed storage: models rarely name more than a handful of dims.
  static constexpr size_t kInline = 8;
  int64_t inline_values_[kInline];
  int inline_by_[kInline];
  std::vector<int64_t> heap_values_;
  std::vector<int> heap_by_;
  int64_t* values_;
  int* bound_by_;  // input index, or -(output index + 2); -1 unbound
};

// The compiled form of contracts.py's rules (see parse_rule in contract.cpp for their shape).
std::shared_ptr<Contract> compile_contract(const void* owner, std::vector<std::string> input_names,
                                           std::vector<std::string> output_names, py::sequence inputs,
                                           py::sequence outputs, py::sequence symbols, py::sequence check_computed);

}  // namespace ortbind
