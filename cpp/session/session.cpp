// Making a session from its model and options, close(), and what a session inherited through fork
// may still do.
#include "session/session.hpp"

#include "runtime/features.hpp"
#include "session/model_source.hpp"
#include "runtime/fork.hpp"
#include "session/request.hpp"
#include "stop/sigint.hpp"
#include "stop/stop_sources.hpp"

#include <chrono>
#include <exception>
#include <optional>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <thread>

namespace ortbind {
namespace {

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

namespace {

// Ctrl-C, timeout= and cancel= stop a session being made through ONNX Runtime's load cancellation
// flag (C API 22); asked for on an older runtime, they are refused rather than ignored.
void load_stop(std::optional<StopSources>& sources, SessionConfig& config, py::handle timeout, py::handle cancel) {
  Request limits;
  read_stop_arguments(limits, timeout, cancel);
  const bool asked = limits.token || limits.timeout >= 0;
  if (asked) require(Feature::kLoadCancellation, "timeout= and cancel= of a session being made");
  if (!available(Feature::kLoadCancellation)) return;
#if ORTBIND_HEADERS_HAVE(22)
  sources.emplace(StopTarget::load(config.options), limits.token, limits.timeout, on_main_thread(),
                  "making the session");
#else
  (void)sources;
  (void)config;
#endif
}

}  // namespace

Session::Session(py::handle model, py::handle env, py::handle timeout, py::handle cancel, py::handle options)
    : generation_(fork_generation()) {
  if (!env.is_none()) {
    env_ = native<Env>(env, "ortbind.Env").core;
  } else {
    GilReleased release;
    env_ = default_env();
  }
  SessionConfig config(env_);
  parse_session_options(config, options);
  prepacked_ = config.prepacked;
  initializers_ = config.initializers;
  libraries_ = config.providers.libraries;
  // Which provider runs each node, for node_assignment() (C API 24).
  if (available(Feature::kNodeAssignment))
    config.options.AddConfigEntry("session.record_ep_graph_assignment_info", "1");
  std::optional<StopSources> stop;
  load_stop(stop, config, timeout, cancel);
  const ModelSource source(model);
  std::exception_ptr failed;
  {
    GilReleased release;
    set_threads(config, *env_);
    if (stop) stop->arm();
    try {
      session_ = source.load(env_->env(), config.options, prepacked_ ? prepacked_->get() : nullptr);
    } catch (...) {
      failed = std::current_exception();
    }
    if (stop) stop->disarm();
#if defined(__GLIBC__)
    // With a container, ONNX Runtime prepacks this session's weights again, finds them in the
    // container and frees its copy; glibc keeps such freed heap memory, which would grow the
    // process by one copy per session. Handing it back is what makes the sharing show.
    if (prepacked_ && !failed) malloc_trim(0);
#endif
  }
  if (failed) {
    // A load stopped by us fails with ORT_MODEL_LOAD_CANCELED: raised as what stopped it.
    if (stop) stop->raise_if_stopped();
    std::rethrow_exception(failed);
  }
  signature_ = read_signature(session_);
  pool_ = make_pool(signature_);
  // On another provider the buffer passed (CPU memory) is filled by a copy from the device, whose
  // refusal of a wrong shape reads otherwise: the pool is for CPU sessions only.
  if (!config.reuse_outputs || config.providers.other_providers) pool_->disable();
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
