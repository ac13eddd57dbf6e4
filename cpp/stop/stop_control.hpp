// Everything that can stop one run: its CancelToken, its time limit, Ctrl-C, and interpreter exit.
#pragma once
#include "common.hpp"

#include "stop/run_options.hpp"
#include "stop/runs_in_flight.hpp"
#include "stop/stop_sources.hpp"

#include <memory>
#include <optional>

namespace ortbind {

// Where a run goes on, which decides what can stop it.
enum class RunThread {
  // run(): Run blocks the calling thread; on the main thread, Ctrl-C stops the run too.
  kCaller,
  // run_async(): the run goes on on ONNX Runtime's threads, with options made for it alone.
  kRuntime,
};

// The same object for run(), Binding.run and run_async(). Made with the GIL held; start() and stop() bracket the
// runtime call (the GIL may be released); raise_if_stopped(), with the GIL held after a failed run,
// turns the reason it stopped into KeyboardInterrupt, RunTimeout or Cancelled. The run counts as in
// flight for interpreter exit from start() until this object is destroyed: for run() until its
// outputs are read, for run_async() until its callback has returned.
class StopControl {
 public:
  // Takes the run's options, which it keeps until it is destroyed: owned ones are registered for
  // interpreter exit while the run counts in flight, so they must outlive that.
  StopControl(RunThread thread, RunOptions options, std::shared_ptr<CancelToken> token, double timeout_seconds);
  // Stops (if started), counts the run out, then lets go of the options: an owned set is released
  // only once exit can no longer reach it; a thread's set is left with its terminate flag unset.
  ~StopControl();
  StopControl(const StopControl&) = delete;
  StopControl& operator=(const StopControl&) = delete;

  OrtRunOptions* options() const { return options_.get(); }
  // start(), `call(options)` (a runtime call that does not throw), stop(): the status it returned.
  template <typename Call>
  OrtStatus* around(Call&& call) {
    start();
    OrtStatus* status = call(options_.get());
    stop();
    return status;
  }
  void start();
  // Detaches the token, the time limit and Ctrl-C (the first call does; later ones do nothing).
  void stop();
  void raise_if_stopped();

 private:
  // Declared first, released last: registered for interpreter exit while in_flight_ lives.
  RunOptions options_;
  std::optional<RunInFlight> in_flight_;
  StopSources sources_;
};

}  // namespace ortbind
