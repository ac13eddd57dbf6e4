#include "session/compile.hpp"

#include "runtime/features.hpp"
#include "session/config.hpp"
#include "session/model_source.hpp"
#include "stop/gil_released.hpp"

namespace ortbind {

void compile_model(const CompileRequest& request) {
  require(Feature::kCompile, "compile()");
  if (!request.require_compiled || !request.overwrite) require(Feature::kCompileFlags, "compile()'s flags");
#if ORTBIND_HEADERS_HAVE(22)
  std::shared_ptr<EnvCore> env;
  if (!request.env.is_none()) {
    env = native<Env>(request.env, "ortbind.Env").core;
  } else {
    GilReleased release;
    env = default_env();
  }
  SessionConfig config(env);
  parse_session_options(config, request.options);
  if (!py::isinstance<py::str>(request.output) && !py::hasattr(request.output, "__fspath__"))
    fail(Problem::Kind,
         std::string("the output must be a path (str or os.PathLike), not ") + Py_TYPE(request.output.ptr())->tp_name);
  const auto output = py::module_::import("os").attr("fsdecode")(request.output).cast<std::string>();
  if (output.find('\0') != std::string::npos) fail(Problem::Value, "the output path holds a NUL character");
  const ModelSource source(request.model);
  const OrtCompileApi& compile = *api().GetCompileApi();
  OrtModelCompilationOptions* made = nullptr;
  check(compile.CreateModelCompilationOptionsFromSessionOptions(env->env(), config.options, &made));
  std::unique_ptr<OrtModelCompilationOptions, void (*)(OrtModelCompilationOptions*)> options(
      made, [](OrtModelCompilationOptions* o) { api().GetCompileApi()->ReleaseModelCompilationOptions(o); });
  if (source.path())
    check(compile.ModelCompilationOptions_SetInputModelPath(options.get(), source.path()->c_str()));
  else
    check(compile.ModelCompilationOptions_SetInputModelFromBuffer(options.get(), source.data(), source.size()));
  check(compile.ModelCompilationOptions_SetOutputModelPath(options.get(), output.c_str()));
  check(compile.ModelCompilationOptions_SetEpContextEmbedMode(options.get(), request.embed));
#if ORTBIND_HEADERS_HAVE(23)
  uint32_t flags = OrtCompileApiFlags_NONE;
  if (request.require_compiled) flags |= OrtCompileApiFlags_ERROR_IF_NO_NODES_COMPILED;
  if (!request.overwrite) flags |= OrtCompileApiFlags_ERROR_IF_OUTPUT_FILE_EXISTS;
  if (flags != OrtCompileApiFlags_NONE) check(compile.ModelCompilationOptions_SetFlags(options.get(), flags));
#endif
  OrtStatus* status = nullptr;
  {
    GilReleased release;
    status = compile.CompileModel(env->env(), options.get());
  }
  check(status);
#else
  (void)request;
#endif
}

}  // namespace ortbind
