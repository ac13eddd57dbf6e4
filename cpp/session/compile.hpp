// ONNX Runtime's compile API: a model compiled ahead of time for its execution providers, written as
// an EPContext model that later sessions load without compiling again.
#pragma once
#include "common.hpp"

namespace ortbind {

struct CompileRequest {
  py::handle model;               // a path or bytes-like, as Session takes it
  py::handle output;              // the path of the compiled model
  py::handle env;                 // an Env, or None for the live one
  py::handle options;             // session options (providers above all), as Session takes them
  bool embed = false;             // the providers' compiled blobs inside the model, not beside it
  bool require_compiled = false;  // ERROR_IF_NO_NODES_COMPILED
  bool overwrite = true;          // false: ERROR_IF_OUTPUT_FILE_EXISTS
};

// Compiles with the GIL released; errors map to the exception hierarchy as a session's do.
void compile_model(const CompileRequest& request);

}  // namespace ortbind
