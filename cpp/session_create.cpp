// Making a session and describing it: the options, the model (a path or bytes), the signature read
// once, the metadata; close(), and what a session inherited through fork may still do.
#include "session.hpp"

#include "fork.hpp"
#include "loading.hpp"

#include <algorithm>
#include <chrono>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <thread>

namespace ortbind {
namespace {

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

// The model: a path, or bytes-like. For bytes the buffer is held (and a bytearray cannot be resized)
// while ONNX Runtime parses it; ONNX Runtime copies what it needs, so the caller may change or drop
// the bytes once the session exists.
class ModelSource {
 public:
  explicit ModelSource(py::handle model) {
    if (py::isinstance<py::str>(model) || py::hasattr(model, "__fspath__")) {
      path_ = py::module_::import("os").attr("fsdecode")(model).cast<std::string>();
      // The runtime reads a C string: a NUL would silently load another file.
      if (path_->find('\0') != std::string::npos) fail(Problem::Value, "the model path holds a NUL character");
    } else if (PyObject_CheckBuffer(model.ptr())) {
      if (PyObject_GetBuffer(model.ptr(), &view_, PyBUF_CONTIG_RO) != 0) throw py::error_already_set();
      have_view_ = true;
    } else {
      fail(Problem::Kind, std::string("model must be a path (str or os.PathLike) or bytes-like, not ") +
                              Py_TYPE(model.ptr())->tp_name);
    }
  }
  // With the GIL held: the session constructor has taken it back by the time this runs.
  ~ModelSource() {
    if (have_view_) PyBuffer_Release(&view_);
  }
  ModelSource(const ModelSource&) = delete;
  ModelSource& operator=(const ModelSource&) = delete;

  // Needs no GIL: the buffer is pinned until destruction.
  Ort::Session load(Ort::Env& env, const Ort::SessionOptions& options, OrtPrepackedWeightsContainer* prepacked) const {
    if (prepacked != nullptr) {
      if (path_) return Ort::Session(env, path_->c_str(), options, prepacked);
      return Ort::Session(env, view_.buf, static_cast<size_t>(view_.len), options, prepacked);
    }
    if (path_) return Ort::Session(env, path_->c_str(), options);
    return Ort::Session(env, view_.buf, static_cast<size_t>(view_.len), options);
  }

 private:
  std::optional<std::string> path_;
  Py_buffer view_{};
  bool have_view_ = false;
};

}  // namespace

Session::Session(py::handle model, py::handle env, py::handle providers, const std::string& optimization,
                 std::optional<int> intra_op_threads, std::optional<int> inter_op_threads,
                 const std::string& execution_mode, std::map<std::string, int64_t> free_dimensions,
                 std::map<std::string, std::string> config, std::optional<std::string> profile,
                 std::vector<std::string> custom_op_libraries, py::handle prepacked_weights, py::handle initializers,
                 py::handle external_data, std::optional<bool> cpu_arena, std::optional<bool> memory_pattern,
                 std::optional<bool> reuse_outputs)
    : generation_(fork_generation()) {
  if (!env.is_none()) env_ = native<Env>(env, "ortbind.Env").core;
  Ort::SessionOptions options;
  options.SetGraphOptimizationLevel(parse_optimization(optimization));
  options.SetExecutionMode(parse_execution_mode(execution_mode));
  for (const auto& [name, value] : free_dimensions)
    check(api().AddFreeDimensionOverrideByName(options, name.c_str(), value));
  for (const auto& [key, value] : config) options.AddConfigEntry(key.c_str(), value.c_str());
  const bool other_providers = add_providers(options, providers);
  set_memory(options, cpu_arena, memory_pattern);
  register_custom_op_libraries(options, custom_op_libraries);
  if (!prepacked_weights.is_none()) prepacked_ = native_shared<PrepackedWeights>(prepacked_weights, "PrepackedWeights");
  initializers_ = add_initializers(options, initializers);
  PinnedBuffers external;  // released (with the GIL) once the session is made: ONNX Runtime copied them
  add_external_data(options, external_data, external);
  if (profile) {
    // The runtime reads a C string: a NUL would silently write elsewhere.
    if (profile->find('\0') != std::string::npos) fail(Problem::Value, "the profile prefix holds a NUL character");
    options.EnableProfiling(profile->c_str());
  }
  const ModelSource source(model);
  {
    GilReleased release;
    if (!env_) env_ = default_env();
    if (env_->settings().global_thread_pools) {
      if (intra_op_threads || inter_op_threads) {
        fail(Problem::Value,
             "this session's Env has global thread pools, so intra_op_threads and "
             "inter_op_threads belong to the Env, not the Session");
      }
      options.DisablePerSessionThreads();
    } else {
      if (intra_op_threads) options.SetIntraOpNumThreads(*intra_op_threads);
      if (inter_op_threads) options.SetInterOpNumThreads(*inter_op_threads);
    }
    session_ = source.load(env_->env(), options, prepacked_ ? prepacked_->get() : nullptr);
#if defined(__GLIBC__)
    // With a container, ONNX Runtime prepacks this session's weights again, finds them in the
    // container and frees its copy; glibc keeps such freed heap memory, which would grow the
    // process by one copy per session. Handing it back is what makes the sharing show.
    if (prepacked_) malloc_trim(0);
#endif
  }
  describe_signature();
  // An output named like an input (a graph input listed as an output, or an overridable
  // initializer) comes back from a run that feeds it as the feed's own OrtValue, over the caller's
  // buffer: collect() copies it, and it is never passed back to Run (which would write into the
  // caller's array, or return the buffer unwritten since the feed wins).
  output_is_input_.assign(output_names_.size(), 0);
  for (size_t k = 0; k < output_names_.size(); ++k)
    output_is_input_[k] = std::find(input_names_.begin(), input_names_.end(), output_names_[k]) != input_names_.end();
  // Run writes into a buffer passed for an output only for numeric tensors of whole bytes. On
  // another provider the buffer passed (CPU memory) is filled by a copy from the device, whose
  // refusal of a wrong shape reads otherwise: the pool is for CPU sessions only.
  std::vector<char> recyclable(output_types_.size(), 0);
  for (size_t k = 0; k < output_types_.size(); ++k) {
    const ValueType& type = output_types_[k];
    recyclable[k] = type.kind == ONNX_TYPE_TENSOR && type.element != ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING &&
                    type.element != ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED && packed_bits(type.element) == 0 &&
                    !output_is_input_[k];
  }
  std::vector<std::vector<int64_t>> declared;
  for (const ValueType& type : output_types_) declared.push_back(type.dims);
  pool_ = std::make_unique<OutputPool>(std::move(recyclable), std::move(declared));
  if (!reuse_outputs.value_or(true) || other_providers) pool_->disable();
}

Session::~Session() {
  if (session_) {
    GilReleased release;
    destroy_session();
  }
}

void Session::close() {
  release_deferred_sessions();
  if (closed_.exchange(true)) return;
  pool_->disable();  // with the GIL still held, as every use of the pool
  // The GIL is released while waiting: a run in flight needs it to finish.
  GilReleased release;
  if (generation_ != fork_generation()) {
    // Inherited through fork: no run of it can be in flight here, and its lock may have been held
    // by a thread that exists only in the parent.
    destroy_session();
    return;
  }
  // run_async calls counted before closed_ was set are waited for before the lock is taken: one may
  // still be about to take it shared, only to find the session closed and count itself out.
  while (async_runs_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::unique_lock<std::shared_mutex> lock(lifecycle_);
  destroy_session();
}

void Session::destroy_session() {
  if (generation_ != fork_generation()) {
    // Made before a fork: its thread pools' threads live only in the parent, and tearing it down
    // here would wait on them forever. The child leaves it to the parent.
    session_.release();
  } else {
    session_ = Ort::Session(nullptr);
  }
}

void Session::ensure_open() const {
  if (closed_.load()) fail(Problem::Closed, "the session is closed");
  if (generation_ != fork_generation()) {
    // ONNX Runtime's thread pools do not survive fork (their threads stay in the parent), so a
    // session made before the fork is refused rather than left to hang.
    fail(Problem::Closed,
         "the session was made in the parent of this forked process, and ONNX Runtime's "
         "thread pools do not survive fork; make the session in the child, or pass it "
         "pickled (it is rebuilt once per process)");
  }
}

void Session::describe_signature() {
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
    all_keys_[output_keys_.back()] = py::none();
  }
  // Overridable initializers (initializers the graph also lists as inputs) follow the inputs: a run
  // may feed them by name like inputs, but none is missing when left out.
  n_model_inputs_ = n_in;
  const size_t n_overridable = session_.GetOverridableInitializerCount();
  for (size_t i = 0; i < n_overridable; ++i) {
    input_names_.emplace_back(session_.GetOverridableInitializerNameAllocated(i, allocator).get());
    input_types_.push_back(describe_type(session_.GetOverridableInitializerTypeInfo(i).GetConst()));
    input_index[model_text(input_names_.back())] = n_in + i;
  }
  // Pointers into the strings above: built after every string is in place.
  for (const auto& name : input_names_) input_name_ptrs_.push_back(name.c_str());
  for (const auto& name : output_names_) output_name_ptrs_.push_back(name.c_str());
  input_index_ = std::move(input_index);
  output_index_ = std::move(output_index);
}

py::list Session::describe(bool inputs) const {
  const auto& names = inputs ? input_names_ : output_names_;
  const auto& types = inputs ? input_types_ : output_types_;
  py::list result;
  for (size_t i = 0; i < (inputs ? n_model_inputs_ : names.size()); ++i)
    result.append(py::make_tuple(model_text(names[i]), types[i].to_python()));
  return result;
}

py::list Session::describe_overridable() const {
  py::list result;
  for (size_t i = n_model_inputs_; i < input_names_.size(); ++i)
    result.append(py::make_tuple(model_text(input_names_[i]), input_types_[i].to_python()));
  return result;
}

py::dict Session::metadata() {
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
  return session_.GetProfilingStartTimeNs();
}

void Session::set_contract(std::shared_ptr<Contract> contract) {
  if (contract && contract->owner != this) fail(Problem::Value, "that contract was compiled for another session");
  contract_ = std::move(contract);
}

std::shared_ptr<Contract> Session::compile(py::sequence inputs, py::sequence outputs, py::sequence symbols,
                                           py::sequence check_computed) const {
  // The contract covers the model's inputs; overridable initializers are checked by ONNX Runtime.
  std::vector<std::string> model_inputs(input_names_.begin(),
                                        input_names_.begin() + static_cast<std::ptrdiff_t>(n_model_inputs_));
  return compile_contract(this, std::move(model_inputs), output_names_, inputs, outputs, symbols, check_computed);
}

}  // namespace ortbind
