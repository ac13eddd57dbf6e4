// ortbind.Session's native half: owns one OrtSession, describes its signature, and runs it. Its jobs
// live in their own files, as pykeio/ort splits its session:
//   session.cpp        making the session from its options, close(), what fork leaves of it
//   introspection.cpp  the signature as Python data, metadata, profiling, contracts compiled for it
//   run.cpp            run(): the run pipeline on the calling thread
//   run_async.cpp      run_async(): the run pipeline on one of ONNX Runtime's threads
// The run pipeline itself (request, feeds, passed-back outputs, stop, retry, results) is
// session/pipeline.hpp; Binding (binding.hpp) runs the same pipeline through an I/O binding.
#pragma once
#include "common.hpp"

#include "runtime/env.hpp"
#include "session/config.hpp"
#include "session/contract.hpp"
#include "session/request.hpp"
#include "session/signature.hpp"
#include "stop/gil_released.hpp"
#include "values/output_pool.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

namespace ortbind {

class Session {
 public:
  // `options`: a dict of option name to value (the session options table, config.hpp). `timeout`
  // and `cancel` stop the session being made, as they stop a run.
  Session(py::handle model, py::handle env, py::handle timeout, py::handle cancel, py::handle options);
  ~Session();
  // Python owns the one instance; runs point at it.
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void close();
  bool closed() const { return closed_.load(); }

  // Optional arguments arrive as handles and are cast only when given: pybind11's casters probe a
  // None for foreign-module conversions, which costs an AttributeError per call.
  py::object run(py::handle feeds, py::handle out, const RunArguments& arguments);
  // The run on one of ONNX Runtime's intra-op threads (OrtApi::RunAsync): returns at once, and
  // `callback(result, error, session)` is called later on that thread, with the GIL held. Needs a
  // session with an intra-op thread pool (intra_op_threads other than 1); ONNX Runtime says so
  // otherwise. `self` is the Python Session, held until the callback has returned.
  void run_async(py::handle self, py::handle feeds, const RunArguments& arguments, py::handle callback);
  // The feeds a run would give ONNX Runtime, checked (names, kinds, dtypes, the contract's shapes)
  // and converted exactly as run() does, without running: the arrays in the model's input order,
  // None for inputs left out.
  py::tuple check_feeds(py::handle feeds, py::handle contract_arg);

  // introspection.cpp
  py::list describe(bool inputs) const { return signature_.describe(inputs); }
  py::list describe_overridable() const { return signature_.describe_overridable(); }
  py::dict metadata();
  // Which provider runs each node: (provider, [(node name, op type, domain), ...]) per subgraph
  // (C API 24).
  py::list node_assignment() const;
  // ONNX Runtime's profiler (profile= at creation): ends it, writes its JSON file and returns that
  // file's path ("" when profiling was not enabled).
  std::string end_profiling();
  uint64_t profiling_start_ns() const;
  void set_contract(std::shared_ptr<Contract> contract);
  std::shared_ptr<Contract> compile(py::sequence inputs, py::sequence outputs, py::sequence symbols,
                                    py::sequence check_computed) const;
  Env env() const { return Env{env_}; }

  // What the run pipeline and bindings use of the session.
  const Signature& signature() const { return signature_; }
  // The model's contract, set by the Python layer; runs check it unless given another.
  std::shared_ptr<Contract> contract() const;
  OrtSession* ort_session() const { return session_; }
  OutputPool& pool() const { return *pool_; }
  OrtLoggingLevel log_level() const { return env_->log_level(); }
  // ClosedError for a closed session, or one inherited through fork.
  void ensure_open() const;
  // Calls `body` with the GIL released and the session held open (close() waits for it); false,
  // without calling it, when the session was closed meanwhile.
  template <typename Body>
  bool while_open(Body&& body) const {
    GilReleased release;
    std::shared_lock<std::shared_mutex> lock(lifecycle_);
    if (closed_.load()) return false;
    body();
    return true;
  }
  // run_async calls whose callback has not returned; close() waits until none is left.
  std::atomic<int>& async_runs() const { return async_runs_; }

 private:
  void destroy_session();

  // Declared first, destroyed last: the environment outlives the session that runs in it.
  std::shared_ptr<EnvCore> env_;
  // Declared before session_, so released after it: ONNX Runtime uses both for the session's life.
  std::shared_ptr<PrepackedWeights> prepacked_;      // shared with the other sessions made with it
  std::shared_ptr<InitializerArrays> initializers_;  // the caller's arrays, read in place
  // The provider libraries the session may run on: not unregistered under it.
  std::vector<std::shared_ptr<ProviderLibrary>> libraries_;
  Ort::Session session_{nullptr};
  Signature signature_;
  // The outputs' buffers runs pass back to Run (output_pool.hpp); off once closed.
  std::unique_ptr<OutputPool> pool_;
  // Set by the Python layer after the session is made, and read by every run: the mutex makes a
  // swap safe against runs on other threads, which take a share of it.
  mutable std::mutex contract_mutex_;
  std::shared_ptr<Contract> contract_;
  // Runs hold it shared for the length of Run; close() takes it exclusively, so it waits for runs
  // in flight and never frees the session under one.
  mutable std::shared_mutex lifecycle_;
  std::atomic<bool> closed_{false};
  mutable std::atomic<int> async_runs_{0};
  const unsigned generation_;  // fork_generation() when made: its thread pools are this process's
};

// The dict subclass runs return (ortbind.Result, registered by the Python package); a plain dict
// until then. Kept for the life of the process.
void set_result_type(PyTypeObject* type);
PyTypeObject* result_type();

// Releases the Python sessions whose last reference a runtime thread would have dropped
// (run_async.cpp). Called on a Python thread.
void release_deferred_sessions();

}  // namespace ortbind
