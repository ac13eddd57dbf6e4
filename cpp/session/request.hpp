// A run's request: what its arguments ask for besides the feeds (outputs, contract, time limit,
// cancel token, LoRA adapters), read once before anything is converted.
#pragma once
#include "common.hpp"

#include "session/contract.hpp"
#include "session/extras.hpp"
#include "stop/cancel_token.hpp"
#include "stop/run_options.hpp"

#include <memory>
#include <vector>

namespace ortbind {

class Session;

struct Request {
  std::shared_ptr<Contract> contract;  // the caller's or the session's, held for the whole run
  std::shared_ptr<CancelToken> token;
  double timeout = -1.0;  // seconds; negative for none
  py::object requested;   // the caller's output names (a list or tuple), or none for the model's
  size_t n_outputs = 0;
  std::vector<std::shared_ptr<LoraAdapter>> adapters;  // activated for this run only

  // The OrtRunOptions of one attempt at the run: options of its own when `own` is asked for or the
  // run activates adapters, else the calling thread's.
  RunOptions run_options(bool own) const;
};

// run()'s arguments besides the feeds and out=. `contract_arg` is a CompiledContract or None for the
// session's own.
Request read_request(const Session& session, py::handle outputs, py::handle timeout, py::handle cancel,
                     py::handle adapters, py::handle contract_arg);
// timeout= and cancel= of a run, read into its request.
void read_stop_arguments(Request& request, py::handle timeout, py::handle cancel);

}  // namespace ortbind
