// CancelToken, and the process hooks stopping relies on: which thread is Python's main thread
// (Ctrl-C), and interpreter exit (runs in flight terminated and waited for).
#include "python/register.hpp"

#include "runtime/log_queue.hpp"
#include "stop/cancel_token.hpp"
#include "stop/runs_in_flight.hpp"
#include "stop/sigint.hpp"

namespace ortbind {

void register_stop(py::module_& m) {
  set_main_thread(py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>());
  py::module_::import("atexit").attr("register")(py::cpp_function([] {
    py::gil_scoped_release release;
    close_log_queue();  // ortbind._logging's reader returns and the thread ends
    stop_runs_at_exit();
  }));

  py::class_<CancelToken, std::shared_ptr<CancelToken>>(m, "CancelToken", R"doc(CancelToken()
--

Cancels runs from another thread: pass it as ``run(..., cancel=token)`` and call ``token.cancel()``.
ONNX Runtime stops between two nodes; the run raises ``ortbind.Cancelled`` and the session stays
usable. A token is cancelled for good: runs started with it later raise at once.
)doc")
      .def(py::init<>(), "__init__(self)\n--\n\nA token not yet cancelled.")
      .def(
          "cancel", [](py::handle self) { native<CancelToken>(self, "ortbind.CancelToken").cancel(); },
          "cancel(self)\n--\n\nStop every run using this token, now and later.")
      .def_property_readonly(
          "cancelled", [](py::handle self) { return native<CancelToken>(self, "ortbind.CancelToken").cancelled(); });
}

}  // namespace ortbind
