// What a session tells about itself beyond its signature: the model's metadata, ONNX Runtime's
// profiler, and the contracts compiled against its signature.
#include "session/session.hpp"

#include "runtime/features.hpp"

#include <array>
#include <optional>
#include <utility>
#include <vector>

namespace ortbind {

namespace {

// The model's metadata as plain strings: read with the session held open and the GIL released, then
// made into Python objects once the GIL is back.
struct MetadataText {
  std::string producer, graph_name, graph_description, domain, description;
  int64_t version = 0;
  std::vector<std::pair<std::string, std::string>> custom;

  explicit MetadataText(const Ort::Session& session) {
    Ort::AllocatorWithDefaultOptions allocator;
    Ort::ModelMetadata meta = session.GetModelMetadata();
    producer = meta.GetProducerNameAllocated(allocator).get();
    graph_name = meta.GetGraphNameAllocated(allocator).get();
    graph_description = meta.GetGraphDescriptionAllocated(allocator).get();
    domain = meta.GetDomainAllocated(allocator).get();
    description = meta.GetDescriptionAllocated(allocator).get();
    version = meta.GetVersion();
    for (auto& key : meta.GetCustomMetadataMapKeysAllocated(allocator))
      custom.emplace_back(key.get(), meta.LookupCustomMetadataMapAllocated(key.get(), allocator).get());
  }
};

}  // namespace

py::dict Session::metadata() {
  ensure_open();
  std::optional<MetadataText> meta;
  if (!while_open([&] { meta.emplace(session_); })) fail(Problem::Closed, "the session is closed");
  py::dict result;
  result["producer"] = model_text(meta->producer);
  result["graph_name"] = model_text(meta->graph_name);
  result["graph_description"] = model_text(meta->graph_description);
  result["domain"] = model_text(meta->domain);
  result["description"] = model_text(meta->description);
  result["version"] = meta->version;
  py::dict custom;
  for (const auto& [key, value] : meta->custom) custom[model_text(key)] = model_text(value);
  result["custom"] = custom;
  return result;
}

py::list Session::node_assignment() const {
  require(Feature::kNodeAssignment, "node_assignment()");
  ensure_open();
  std::vector<std::pair<std::string, std::vector<std::array<std::string, 3>>>> subgraphs;
#if ORTBIND_HEADERS_HAVE(24)
  auto read = [&] {
    const OrtApi& ort = api();
    const OrtEpAssignedSubgraph* const* assigned = nullptr;
    size_t count = 0;
    check(ort.Session_GetEpGraphAssignmentInfo(session_, &assigned, &count));
    for (size_t i = 0; i < count; ++i) {
      const char* provider = nullptr;
      check(ort.EpAssignedSubgraph_GetEpName(assigned[i], &provider));
      const OrtEpAssignedNode* const* nodes = nullptr;
      size_t n_nodes = 0;
      check(ort.EpAssignedSubgraph_GetNodes(assigned[i], &nodes, &n_nodes));
      std::vector<std::array<std::string, 3>> described;
      for (size_t k = 0; k < n_nodes; ++k) {
        const char *name = nullptr, *op_type = nullptr, *domain = nullptr;
        check(ort.EpAssignedNode_GetName(nodes[k], &name));
        check(ort.EpAssignedNode_GetOperatorType(nodes[k], &op_type));
        check(ort.EpAssignedNode_GetDomain(nodes[k], &domain));
        described.push_back({name ? name : "", op_type ? op_type : "", domain ? domain : ""});
      }
      subgraphs.emplace_back(provider ? provider : "", std::move(described));
    }
  };
  // An error unwinds out of while_open, which takes the GIL back on its way.
  if (!while_open(read)) fail(Problem::Closed, "the session is closed");
#endif
  py::list result;
  for (const auto& [provider, nodes] : subgraphs) {
    py::list listed;
    for (const auto& node : nodes) listed.append(py::make_tuple(model_text(node[0]), node[1], node[2]));
    result.append(py::make_tuple(provider, listed));
  }
  return result;
}

std::string Session::end_profiling() {
  ensure_open();
  // The runtime writes the file here and allocates its name with the allocator given; the
  // AllocatedStringPtr frees it with that same allocator.
  Ort::AllocatorWithDefaultOptions allocator;
  Ort::AllocatedStringPtr path{nullptr, Ort::detail::AllocatedFree(allocator)};
  if (!while_open([&] { path = session_.EndProfilingAllocated(allocator); }))
    fail(Problem::Closed, "the session is closed");
  return path ? std::string(path.get()) : std::string();
}

uint64_t Session::profiling_start_ns() const {
  ensure_open();
  uint64_t start = 0;
  if (!while_open([&] { start = session_.GetProfilingStartTimeNs(); })) fail(Problem::Closed, "the session is closed");
  return start;
}

void Session::set_contract(std::shared_ptr<Contract> contract) {
  if (contract && contract->owner != this) fail(Problem::Value, "that contract was compiled for another session");
  std::lock_guard<std::mutex> lock(contract_mutex_);
  contract_ = std::move(contract);
}

std::shared_ptr<Contract> Session::compile(py::sequence inputs, py::sequence outputs, py::sequence symbols,
                                           py::sequence check_computed) const {
  // The contract covers the model's inputs; overridable initializers are checked by ONNX Runtime.
  const Signature& s = signature_;
  std::vector<std::string> model_inputs(s.input_names.begin(),
                                        s.input_names.begin() + static_cast<std::ptrdiff_t>(s.n_model_inputs));
  return compile_contract(this, std::move(model_inputs), s.output_names, inputs, outputs, symbols, check_computed);
}

}  // namespace ortbind
