// A run's request: what its arguments ask for besides the feeds (outputs, contract, time limit,
// cancel token, LoRA adapters), read once before anything is converted.
#pragma once
#include "common.hpp"

#include "session/contract.hpp"
#include "session/extras.hpp"
#include "stop/cancel_token.hpp"
#include "stop/run_options.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ortbind {

class Session;

// A run's arguments besides the feeds and out=, as the caller gave them (None where not given).
struct RunArguments {
  py::handle outputs = py::none(), timeout = py::none(), cancel = py::none(), adapters = py::none();
  py::handle tag = py::none(), log_level = py::none(), run_config = py::none(), profile = py::none();
  py::handle contract = py::none();  // a CompiledContract, or None for the session's own
};

// What a run sets in its own OrtRunOptions besides the stop flag and adapters.
struct RunSettings {
  std::optional<std::string> tag;
  std::optional<OrtLoggingLevel> log_level;
  std::vector<std::pair<std::string, std::string>> config;
  std::optional<std::string> profile;  // the prefix of ONNX Runtime's per-run profile (C API 25)

  bool any() const { return tag || log_level || !config.empty() || profile; }
};

struct Request {
  std::shared_ptr<Contract> contract;  // the caller's or the session's, held for the whole run
  std::shared_ptr<CancelToken> token;
  double timeout = -1.0;  // seconds; negative for none
  py::object requested;   // the caller's output names (a list or tuple), or none for the model's
  size_t n_outputs = 0;
  std::vector<std::shared_ptr<LoraAdapter>> adapters;  // activated for this run only
  RunSettings settings;

  // The OrtRunOptions of one attempt at the run: options of its own when `own` is asked for or the
  // run activates adapters or sets anything, else the calling thread's.
  RunOptions run_options(bool own) const;
};

Request read_request(const Session& session, const RunArguments& arguments);
// What a run asks for beyond its outputs and contract (a Binding's runs read these alone): the stop
// arguments, the adapters, the run settings.
void read_run_arguments(Request& request, const RunArguments& arguments);
// timeout= and cancel= of a run (or of a session being made), read into its request.
void read_stop_arguments(Request& request, py::handle timeout, py::handle cancel);

}  // namespace ortbind
