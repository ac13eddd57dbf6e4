// run_async: the run goes on on one of ONNX Runtime's intra-op threads (OrtApi::RunAsync), and its
// end arrives there too, in on_async_done, which takes the GIL to build the result and call back.
#include "session.hpp"

#include "stop_control.hpp"

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
// run_async() or close() of any session, on a Python thread. Guarded by the GIL.
std::vector<PyObject*> g_deferred_sessions;

}  // namespace

void release_deferred_sessions() {
  while (!g_deferred_sessions.empty()) {
    PyObject* object = g_deferred_sessions.back();
    g_deferred_sessions.pop_back();
    Py_DECREF(object);
  }
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

// A run_async call: the Call, plus what lives until ONNX Runtime's callback: the Python session (so
// it cannot be destroyed under the run), the Python callback, and the run's stop control.
struct AsyncCall {
  AsyncCall(Session* session, py::handle self, py::handle callback, const Request& request)
      : contract_hold(request.contract_hold),
        call(session->input_names_.size(), request),
        session(session),
        self(py::reinterpret_borrow<py::object>(self)),
        callback(py::reinterpret_borrow<py::object>(callback)),
        stop(std::make_unique<StopControl>(RunThread::kRuntime, request.token, request.timeout)) {}

  std::shared_ptr<Contract> contract_hold;  // `call` points into it, and the Request is gone by the callback
  Call call;
  Session* session;
  py::object self;      // the Python Session, which owns `session`
  py::object callback;  // callback(result, error, session)
  // Declared after `self`, so destroyed before it: the count lives in the session that `self` holds.
  std::optional<AsyncRunCount> counted;
  // Moved out by on_async_done, which lets it go after the call and the GIL (see there).
  std::unique_ptr<StopControl> stop;
};

void Session::run_async(py::handle self, py::handle feeds, py::handle outputs, py::handle timeout, py::handle cancel,
                        py::handle adapters, py::handle contract_arg, py::handle callback) {
  release_deferred_sessions();
  ensure_open();
  if (!PyCallable_Check(callback.ptr())) fail(Problem::Kind, "callback must be callable");
  Request request = parse_request(outputs, timeout, cancel, adapters, contract_arg);
  // ONNX Runtime's RunAsync ignores the adapters of its run options: refused rather than a run
  // without them (Session.run_async sends such runs to the executor, through run()).
  if (!request.adapters.empty())
    fail(Problem::Value, "ONNX Runtime's RunAsync does not apply LoRA adapters; use run(adapters=...)");
  auto async = std::make_unique<AsyncCall>(this, self, callback, request);
  Call& call = async->call;
  gather_inputs(call, feeds);
  select_outputs(call, request);
  async->stop->start();
  async->counted.emplace(async_runs_);
  StatusGuard status;
  const bool started = while_open([&] {
    status.reset(api().RunAsync(session_, async->stop->options(), call.input_names.data(), call.inputs.data(),
                                call.n_run_inputs, call.output_names.data(), call.selected.size(), call.results.data(),
                                &Session::on_async_done, async.get()));
  });
  // Never started: no callback will come, and `async` undoes the counts and the stop as it goes.
  if (!started) fail(Problem::Closed, "the session was closed before the run started");
  check(status.release());
  async.release();  // owned by on_async_done from here on, which may already be running
}

// ONNX Runtime's callback for run_async, on one of its intra-op threads.
void Session::on_async_done(void* user_data, OrtValue** outputs, size_t n_outputs, OrtStatusPtr status) {
  std::unique_ptr<AsyncCall> async(static_cast<AsyncCall*>(user_data));
  StatusGuard failed(status);
  // Let go last, after the call and the GIL: until its callback has returned, the run counts as in
  // flight for interpreter exit (which may still terminate it), and its options must outlive that.
  const std::unique_ptr<StopControl> stop = std::move(async->stop);
  stop->stop();
  Session* session = async->session;
  Call& call = async->call;
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
    py::object result = py::none();
    py::object error = py::none();
    try {
      if (failed.failed()) {
        stop->raise_if_stopped();
        check(failed.release());
      }
      result = session->collect(call);
    } catch (py::error_already_set& e) {
      error = e.value();
    } catch (...) {
      py::detail::try_translate_exceptions();
      PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
      PyErr_Fetch(&type, &value, &traceback);
      PyErr_NormalizeException(&type, &value, &traceback);
      error = py::reinterpret_steal<py::object>(value);
      Py_XDECREF(type);
      Py_XDECREF(traceback);
    }
    try {
      async->callback(result, error, async->self);
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("ortbind run_async callback");
    }
    async->counted.reset();
    // The last reference would destroy the session here, on its own pool's thread: deferred.
    if (Py_REFCNT(async->self.ptr()) == 1) g_deferred_sessions.push_back(async->self.release().ptr());
    async.reset();
  }
  PyGILState_Release(gil);
}

}  // namespace ortbind
