// A session's options: one table (config.cpp) names each option Session() takes, with its default,
// its type and its documentation, and parses it into one SessionConfig. The Python signature, the
// stub and the docs come from or are checked against the table (_core.SESSION_OPTIONS); adding an
// option is one entry there and what it sets here.
#pragma once
#include "common.hpp"

#include "runtime/env.hpp"
#include "session/extras.hpp"
#include "session/providers.hpp"

#include <memory>
#include <optional>
#include <string>

namespace ortbind {

struct SessionConfig {
  explicit SessionConfig(std::shared_ptr<EnvCore> environment) : env(std::move(environment)) {}

  std::shared_ptr<EnvCore> env;  // the environment the session is made in
  Ort::SessionOptions options;   // what ONNX Runtime reads when the session is made
  // Thread counts, set on `options` only once the Env is known (global pools own them there).
  std::optional<int> intra_op_threads, inter_op_threads;
  ProviderSelection providers;
  bool reuse_outputs = true;
  // Held by the session for its life: ONNX Runtime keeps using them after the session is made.
  std::shared_ptr<PrepackedWeights> prepacked;
  std::shared_ptr<InitializerArrays> initializers;
  // Released (with the GIL) once the session is made: ONNX Runtime copied them.
  PinnedBuffers external_data;
};

// Parses the options a caller gave (a dict of name to value, None values taken as not given) into
// a configuration; an unknown name is refused with the names there are.
void parse_session_options(SessionConfig& config, py::handle options);

// The table as Python reads it: (name, default as Python writes it, type as the stub writes it, doc)
// per option, in the signature's order.
py::tuple session_options_table();

}  // namespace ortbind
