// Making a session from its model and options, close(), and what a session inherited through fork
// may still do.
#include "session/session.hpp"

#include "runtime/fork.hpp"

#include <chrono>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <thread>

namespace ortbind {
namespace {

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

// Which outputs Run may write into a buffer passed back: numeric tensors of whole bytes, not named
// like an input (collect() copies those, and Run would write into the caller's array, or return the
// buffer unwritten since the feed wins).
std::unique_ptr<OutputPool> make_pool(const Signature& signature) {
  std::vector<char> recyclable;
  std::vector<std::vector<int64_t>> declared;
  for (size_t k = 0; k < signature.output_types.size(); ++k) {
    const ValueType& type = signature.output_types[k];
    recyclable.push_back(type.is_plain_tensor() && !signature.output_is_input[k]);
    declared.push_back(type.dims);
  }
  return std::make_unique<OutputPool>(std::move(recyclable), std::move(declared));
}

// The thread counts of a session: its own pools' sizes, unless its Env has global pools.
void set_threads(SessionConfig& config, const EnvCore& env) {
  if (env.settings().global_thread_pools) {
    if (config.intra_op_threads || config.inter_op_threads) {
      fail(Problem::Value,
           "this session's Env has global thread pools, so intra_op_threads and "
           "inter_op_threads belong to the Env, not the Session");
    }
    config.options.DisablePerSessionThreads();
    return;
  }
  if (config.intra_op_threads) config.options.SetIntraOpNumThreads(*config.intra_op_threads);
  if (config.inter_op_threads) config.options.SetInterOpNumThreads(*config.inter_op_threads);
}

}  // namespace

Session::Session(py::handle model, py::handle env, py::handle options) : generation_(fork_generation()) {
  if (!env.is_none()) env_ = native<Env>(env, "ortbind.Env").core;
  SessionConfig config;
  parse_session_options(config, options);
  prepacked_ = config.prepacked;
  initializers_ = config.initializers;
  const ModelSource source(model);
  {
    GilReleased release;
    if (!env_) env_ = default_env();
    set_threads(config, *env_);
    session_ = source.load(env_->env(), config.options, prepacked_ ? prepacked_->get() : nullptr);
#if defined(__GLIBC__)
    // With a container, ONNX Runtime prepacks this session's weights again, finds them in the
    // container and frees its copy; glibc keeps such freed heap memory, which would grow the
    // process by one copy per session. Handing it back is what makes the sharing show.
    if (prepacked_) malloc_trim(0);
#endif
  }
  signature_ = read_signature(session_);
  pool_ = make_pool(signature_);
  // On another provider the buffer passed (CPU memory) is filled by a copy from the device, whose
  // refusal of a wrong shape reads otherwise: the pool is for CPU sessions only.
  if (!config.reuse_outputs || config.other_providers) pool_->disable();
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
  pool_->disable();
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

std::shared_ptr<Contract> Session::contract() const {
  std::lock_guard<std::mutex> lock(contract_mutex_);
  return contract_;
}

}  // namespace ortbind
