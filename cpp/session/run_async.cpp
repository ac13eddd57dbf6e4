// run_async(): the run pipeline on one of ONNX Runtime's intra-op threads (OrtApi::RunAsync); its end
// arrives there too, in on_async_done, which takes the GIL to build the result and call back.
#include "session/pipeline.hpp"

#include <mutex>
#include <vector>

namespace ortbind {
namespace {

bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

// Python sessions whose last reference a runtime thread would have dropped: destroying a session
// joins its thread pool, which must not happen on one of that pool's threads. Released by the next
// run_async() or close() of any session, on a Python thread. The mutex guards the list, never the
// release (which may destroy a session, and run Python code).
std::mutex g_deferred_mutex;
std::vector<PyObject*> g_deferred_sessions;

void defer_release(PyObject* session) {
  std::lock_guard<std::mutex> lock(g_deferred_mutex);
  g_deferred_sessions.push_back(session);
}

// One run_async call whose callback has not returned; close() waits until none is left.
class AsyncRunCount {
 public:
  explicit AsyncRunCount(std::atomic<int>& count) : count_(&count) { count_->fetch_add(1); }
  ~AsyncRunCount() { count_->fetch_sub(1); }
  AsyncRunCount(const AsyncRunCount&) = delete;
  AsyncRunCount& operator=(const AsyncRunCount&) = delete;

 private:
  std::atomic<int>* count_;
};

// A run_async call: the pipeline, plus what lives until ONNX Runtime's callback: the Python session
// (so it cannot be destroyed under the run), the Python callback, and the run's stop controls.
struct AsyncCall {
  AsyncCall(const Session& session, py::handle self, py::handle callback, Request request)
      : pipeline(session, std::move(request)),
        self(py::reinterpret_borrow<py::object>(self)),
        callback(py::reinterpret_borrow<py::object>(callback)) {}

  RunPipeline pipeline;
  py::object self;      // the Python Session, which owns the session the pipeline runs
  py::object callback;  // callback(result, error, session)
  // Declared after `self`, so destroyed before it: the count lives in the session that `self` holds.
  std::optional<AsyncRunCount> counted;
  // Moved out by on_async_done, which lets it go after the call and the GIL (see there).
  std::unique_ptr<StopControl> stop;
};

// The run's result, or the error it ended with, as Python objects (the GIL held).
std::pair<py::object, py::object> outcome(AsyncCall& async, StatusGuard& failed, StopControl& stop) {
  try {
    if (failed.failed()) {
      stop.raise_if_stopped();
      check(failed.release());
    }
    return {async.pipeline.results(), py::none()};
  } catch (py::error_already_set& e) {
    return {py::none(), e.value()};
  } catch (...) {
    py::detail::try_translate_exceptions();
    PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    Py_XDECREF(type);
    Py_XDECREF(traceback);
    return {py::none(), py::reinterpret_steal<py::object>(value)};
  }
}

// ONNX Runtime's callback for run_async, on one of its intra-op threads.
void on_async_done(void* user_data, OrtValue** outputs, size_t n_outputs, OrtStatusPtr status) {
  std::unique_ptr<AsyncCall> async(static_cast<AsyncCall*>(user_data));
  StatusGuard failed(status);
  // Let go last, after the call and the GIL: until its callback has returned, the run counts as in
  // flight for interpreter exit (which may still terminate it), and its options must outlive that.
  const std::unique_ptr<StopControl> stop = std::move(async->stop);
  stop->stop();
  Call& call = async->pipeline.call();
  if (outputs != call.results.data()) {
    for (size_t k = 0; k < n_outputs && k < call.selected.size(); ++k) call.results[k] = outputs[k];
  }
  if (interpreter_finalizing()) {
    // Python is going away: nothing may touch it now, so the call's Python objects are left as
    // they are.
    async->counted.reset();
    async.release();
    return;
  }
  PyGILState_STATE gil = PyGILState_Ensure();
  {
    auto [result, error] = outcome(*async, failed, *stop);
    try {
      async->callback(result, error, async->self);
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("ortbind run_async callback");
    }
    async->counted.reset();
    // The last reference would destroy the session here, on its own pool's thread: deferred. With the
    // GIL, a count of one is exact; without it another thread may drop its reference at any moment,
    // so this one is always deferred.
#ifdef Py_GIL_DISABLED
    defer_release(async->self.release().ptr());
    // Released soon on the main thread, not only by the next run_async() or close().
    Py_AddPendingCall(
        [](void*) {
          release_deferred_sessions();
          return 0;
        },
        nullptr);
#else
    if (Py_REFCNT(async->self.ptr()) == 1) defer_release(async->self.release().ptr());
#endif
    async.reset();
  }
  PyGILState_Release(gil);
}

}  // namespace

void release_deferred_sessions() {
  std::vector<PyObject*> released;
  {
    std::lock_guard<std::mutex> lock(g_deferred_mutex);
    released.swap(g_deferred_sessions);
  }
  for (PyObject* object : released) Py_DECREF(object);
}

void Session::run_async(py::handle self, py::handle feeds, const RunArguments& arguments, py::handle callback) {
  release_deferred_sessions();
  ensure_open();
  if (!PyCallable_Check(callback.ptr())) fail(Problem::Kind, "callback must be callable");
  Request request = read_request(*this, arguments);
  // ONNX Runtime's RunAsync ignores the adapters of its run options: refused rather than a run
  // without them (Session.run_async sends such runs to the executor, through run()).
  if (!request.adapters.empty())
    fail(Problem::Value, "ONNX Runtime's RunAsync does not apply LoRA adapters; use run(adapters=...)");
  auto async = std::make_unique<AsyncCall>(*this, self, callback, std::move(request));
  Call& call = async->pipeline.call();
  async->pipeline.feed(feeds);
  async->pipeline.select_outputs();
  async->counted.emplace(async_runs_);
  // Never started: no callback will come, and `async` undoes the counts and the stop as it goes.
  async->pipeline.start_async(async->stop, [&](OrtRunOptions* options) {
    return api().RunAsync(session_, options, call.input_names.data(), call.inputs.data(), call.n_run_inputs,
                          call.output_names.data(), call.selected.size(), call.results.data(), &on_async_done,
                          async.get());
  });
  async.release();  // owned by on_async_done from here on, which may already be running
}

}  // namespace ortbind
