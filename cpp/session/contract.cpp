#include "session/contract.hpp"

#include <algorithm>
#include <memory>

namespace ortbind {

std::string Contract::shape_text(const TensorRule& rule) const {
  std::string text = "(";
  for (size_t i = 0; i < rule.dims.size(); ++i) {
    if (i > 0) text += ", ";
    const DimRule& d = rule.dims[i];
    if (d.fixed >= 0)
      text += std::to_string(d.fixed);
    else if (d.symbol >= 0)
      text += symbols[static_cast<size_t>(d.symbol)];
    else
      text += "?";
  }
  if (rule.dims.size() == 1) text += ",";
  return text + ")";
}

SymbolTable::SymbolTable(const Contract& contract) : contract_(contract) {
  const size_t n = contract.symbols.size();
  if (n <= kInline) {
    values_ = inline_values_;
    bound_by_ = inline_by_;
  } else {
    heap_values_.resize(n);
    heap_by_.resize(n);
    values_ = heap_values_.data();
    bound_by_ = heap_by_.data();
  }
  std::fill(bound_by_, bound_by_ + n, -1);
}

std::string SymbolTable::value_name(bool is_input, size_t index) const {
  return std::string(is_input ? "input " : "output ") +
         quoted(is_input ? contract_.input_names[index] : contract_.output_names[index]);
}

template <typename Dim>
void SymbolTable::check_dims(const TensorRule& rule, bool is_input, size_t index, const Dim* dims, size_t ndim) {
  if (!rule.has_shape) return;
  if (ndim != rule.dims.size()) {
    fail(Problem::Shape, value_name(is_input, index) + " has rank " + std::to_string(ndim) +
                             ", but the contract expects rank " + std::to_string(rule.dims.size()) + ": " +
                             contract_.shape_text(rule));
  }
  for (size_t i = 0; i < ndim; ++i) {
    const DimRule& d = rule.dims[i];
    const auto size = static_cast<int64_t>(dims[i]);
    if (d.fixed >= 0) {
      if (size != d.fixed) {
        fail(Problem::Shape, value_name(is_input, index) + " dim " + std::to_string(i) + " is " + std::to_string(size) +
                                 ", but the contract fixes it to " + std::to_string(d.fixed) + ": " +
                                 contract_.shape_text(rule));
      }
    } else if (d.symbol >= 0) {
      const auto s = static_cast<size_t>(d.symbol);
      const std::string& symbol = contract_.symbols[s];
      const int who = is_input ? static_cast<int>(index) : -static_cast<int>(index) - 2;
      if (bound_by_[s] == -1) {
        if (size < contract_.lower[s] || size > contract_.upper[s]) {
          std::string bound = std::to_string(contract_.lower[s]) + " <= " + symbol;
          if (contract_.upper[s] != INT64_MAX) bound += " <= " + std::to_string(contract_.upper[s]);
          fail(Problem::Shape, value_name(is_input, index) + " dim " + std::to_string(i) + " (" + quoted(symbol) +
                                   ") is " + std::to_string(size) + ", outside the contract's bound " + bound);
        }
        values_[s] = size;
        bound_by_[s] = who;
      } else if (values_[s] != size) {
        const int by = bound_by_[s];
        const std::string binder = by >= 0 ? quoted(contract_.input_names[static_cast<size_t>(by)])
                                           : "output " + quoted(contract_.output_names[static_cast<size_t>(-by - 2)]);
        const std::string where = by == who ? "an earlier dim of it" : binder;
        fail(Problem::Shape, value_name(is_input, index) + " dim " + std::to_string(i) + " (" + quoted(symbol) +
                                 ") is " + std::to_string(size) + ", but " + where + " bound " + symbol + "=" +
                                 std::to_string(values_[s]));
      }
    }
  }
}

void SymbolTable::check(const TensorRule& rule, bool is_input, size_t index, const npy_intp* dims, int ndim) {
  check_dims(rule, is_input, index, dims, static_cast<size_t>(ndim));
}

void SymbolTable::check(const TensorRule& rule, bool is_input, size_t index, const int64_t* dims, size_t ndim) {
  check_dims(rule, is_input, index, dims, ndim);
}

namespace {

// A rule from Python: None (no shape rule), or a sequence of dims, each an int (fixed), a str
// (a symbol declared in `symbols`) or None (anything).
TensorRule parse_rule(py::handle rule, const std::vector<std::string>& symbols) {
  TensorRule out;
  if (rule.is_none()) return out;
  out.has_shape = true;
  for (py::handle dim : rule) {
    DimRule d;
    if (py::isinstance<py::str>(dim)) {
      const std::string name = text_bytes(dim);
      auto it = std::find(symbols.begin(), symbols.end(), name);
      if (it == symbols.end()) fail(Problem::Value, "the contract names dim " + quoted(name) + " without declaring it");
      d.symbol = static_cast<int>(it - symbols.begin());
    } else if (!dim.is_none()) {
      d.fixed = dim.cast<int64_t>();
    }
    out.dims.push_back(d);
  }
  return out;
}

}  // namespace

std::shared_ptr<Contract> compile_contract(const void* owner, std::vector<std::string> input_names,
                                           std::vector<std::string> output_names, py::sequence inputs,
                                           py::sequence outputs, py::sequence symbols, py::sequence check_computed) {
  auto c = std::make_shared<Contract>();
  c->owner = owner;
  c->input_names = std::move(input_names);
  c->output_names = std::move(output_names);
  for (py::handle symbol : symbols) {
    auto entry = symbol.cast<py::tuple>();
    c->symbols.push_back(text_bytes(entry[0]));
    c->lower.push_back(entry[1].cast<int64_t>());
    c->upper.push_back(entry[2].is_none() ? INT64_MAX : entry[2].cast<int64_t>());
  }
  for (py::handle rule : inputs) c->inputs.push_back(parse_rule(rule, c->symbols));
  for (py::handle rule : outputs) c->outputs.push_back(parse_rule(rule, c->symbols));
  for (py::handle flag : check_computed) c->check_computed.push_back(flag.cast<bool>());
  if (c->inputs.size() != c->input_names.size() || c->outputs.size() != c->output_names.size() ||
      c->check_computed.size() != c->output_names.size())
    fail(Problem::Value,
         "a compiled contract needs one rule per input and per output, and one check_computed flag per output");
  return c;
}

}  // namespace ortbind
