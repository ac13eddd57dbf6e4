// The session options table: every option Session() takes, parsed once into a SessionConfig.
#include "session/config.hpp"

#include "session/providers.hpp"

#include <map>

namespace ortbind {
namespace {

struct SessionOption {
  const char* name;
  const char* default_text;  // the default as Python writes it; every option not given is left as it is
  const char* annotation;    // the type as the stub writes it
  const char* doc;
  void (*parse)(SessionConfig& config, py::handle value);
};

std::string text_option(const char* name, py::handle value) {
  if (!py::isinstance<py::str>(value))
    fail(Problem::Kind, std::string(name) + " must be a str, not " + Py_TYPE(value.ptr())->tp_name);
  return value.cast<std::string>();
}

int int_option(const char* name, py::handle value) {
  if (PyBool_Check(value.ptr()) || !PyLong_Check(value.ptr()))
    fail(Problem::Kind, std::string(name) + " must be an int, not " + Py_TYPE(value.ptr())->tp_name);
  return value.cast<int>();
}

bool bool_option(const char* name, py::handle value) {
  if (!PyBool_Check(value.ptr()))
    fail(Problem::Kind, std::string(name) + " must be True or False, not " + Py_TYPE(value.ptr())->tp_name);
  return value.ptr() == Py_True;
}

// A path as ONNX Runtime reads it: a C string, where a NUL would silently name another file.
std::string path_option(const char* what, py::handle value) {
  if (!py::isinstance<py::str>(value) && !py::hasattr(value, "__fspath__"))
    fail(Problem::Kind,
         std::string(what) + " must be a path (str or os.PathLike), not " + Py_TYPE(value.ptr())->tp_name);
  auto path = py::module_::import("os").attr("fsdecode")(value).cast<std::string>();
  if (path.find('\0') != std::string::npos) fail(Problem::Value, std::string("the ") + what + " holds a NUL character");
  return path;
}

py::iterable mapping_items(const char* name, py::handle value, const char* of) {
  if (!py::hasattr(value, "items"))
    fail(Problem::Kind, std::string(name) + " must be a mapping of " + of + ", not " + Py_TYPE(value.ptr())->tp_name);
  return value.attr("items")();
}

GraphOptimizationLevel parse_optimization(const std::string& name) {
  if (name == "disabled") return ORT_DISABLE_ALL;
  if (name == "basic") return ORT_ENABLE_BASIC;
  if (name == "extended") return ORT_ENABLE_EXTENDED;
  if (name == "all") return ORT_ENABLE_ALL;
  fail(Problem::Value, "optimization must be 'disabled', 'basic', 'extended' or 'all', not " + quoted(name));
}

ExecutionMode parse_execution_mode(const std::string& name) {
  if (name == "sequential") return ORT_SEQUENTIAL;
  if (name == "parallel") return ORT_PARALLEL;
  fail(Problem::Value, "execution_mode must be 'sequential' or 'parallel', not " + quoted(name));
}

void parse_free_dimensions(SessionConfig& config, py::handle value) {
  for (auto pair : mapping_items("free_dimensions", value, "dim name to size")) {
    auto kv = pair.cast<py::tuple>();
    const std::string name = text_option("a free dimension's name", kv[0]);
    check(api().AddFreeDimensionOverrideByName(config.options, name.c_str(), int_option("its size", kv[1])));
  }
}

void parse_config_entries(SessionConfig& config, py::handle value) {
  for (auto pair : mapping_items("config", value, "config key to value")) {
    auto kv = pair.cast<py::tuple>();
    config.options.AddConfigEntry(text_option("a config key", kv[0]).c_str(),
                                  text_option("a config value", kv[1]).c_str());
  }
}

void parse_custom_op_libraries(SessionConfig& config, py::handle value) {
  if (py::isinstance<py::str>(value) || py::hasattr(value, "__fspath__"))
    fail(Problem::Kind, "custom_op_libraries must be a sequence of paths, not one path");
  std::vector<std::string> paths;
  for (py::handle item : py::reinterpret_borrow<py::iterable>(value))
    paths.push_back(path_option("custom op library path", item));
  register_custom_op_libraries(config.options, paths);
}

const SessionOption kSessionOptions[] = {
    {"providers", "None", "Sequence[Provider] | None",
     "Execution providers in order of preference, each a name or a (name, {option: value}) pair; "
     "option values reach ONNX Runtime as str(value). The CPU provider is always last in line.",
     [](SessionConfig& c, py::handle v) { c.providers.add(c.options, *c.env, v); }},
    {"provider_policy", "None",
     "Literal['default', 'prefer_cpu', 'prefer_npu', 'prefer_gpu', 'max_performance', 'max_efficiency', "
     "'min_overall_power'] | None",
     "ONNX Runtime picks the providers among the devices it offers (ortbind.runtime.devices(), registered provider "
     "libraries' included) by this policy.",
     [](SessionConfig& c, py::handle v) { c.providers.set_policy(c.options, text_option("provider_policy", v)); }},
    {"optimization", "'all'", "Literal['disabled', 'basic', 'extended', 'all']",
     "ONNX Runtime's graph optimization level.",
     [](SessionConfig& c, py::handle v) {
       c.options.SetGraphOptimizationLevel(parse_optimization(text_option("optimization", v)));
     }},
    {"intra_op_threads", "None", "int | None",
     "Threads that run one node (ONNX Runtime's default: one per core); 1 runs on the caller's thread.",
     [](SessionConfig& c, py::handle v) { c.intra_op_threads = int_option("intra_op_threads", v); }},
    {"inter_op_threads", "None", "int | None",
     "Threads that run independent nodes at once (execution_mode='parallel').",
     [](SessionConfig& c, py::handle v) { c.inter_op_threads = int_option("inter_op_threads", v); }},
    {"execution_mode", "'sequential'", "Literal['sequential', 'parallel']",
     "Whether independent nodes run one after another or in parallel.",
     [](SessionConfig& c, py::handle v) {
       c.options.SetExecutionMode(parse_execution_mode(text_option("execution_mode", v)));
     }},
    {"free_dimensions", "None", "Mapping[str, int] | None",
     "Sizes fixed for named symbolic dims (AddFreeDimensionOverrideByName), so the graph is optimized for them.",
     parse_free_dimensions},
    {"config", "None", "Mapping[str, str] | None",
     "Session config entries (AddSessionConfigEntry), as ONNX Runtime's onnxruntime_session_options_config_keys.h "
     "names them.",
     parse_config_entries},
    {"profile", "None", "str | os.PathLike[str] | None",
     "A path prefix that turns on ONNX Runtime's profiler; end_profiling() returns the JSON file it wrote.",
     [](SessionConfig& c, py::handle v) { c.options.EnableProfiling(path_option("profile prefix", v).c_str()); }},
    {"custom_op_libraries", "None", "Sequence[str | os.PathLike[str]] | None",
     "Shared libraries of custom operators (exporting RegisterCustomOps), registered for this session.",
     parse_custom_op_libraries},
    {"prepacked_weights", "None", "PrepackedWeights | None",
     "A container in which sessions made with the same initializers share ONNX Runtime's prepacked weights.",
     [](SessionConfig& c, py::handle v) { c.prepacked = native_shared<PrepackedWeights>(v, "PrepackedWeights"); }},
    {"initializers", "None", "Mapping[str, NDArray[Any]] | None",
     "Initializers from arrays the caller owns, read in place and held by the session (AddInitializer).",
     [](SessionConfig& c, py::handle v) { c.initializers = add_initializers(c.options, v); }},
    {"external_data", "None", "Mapping[str, Buffer] | None",
     "The external data files of a model given as bytes, from memory: file name (as the model names it) to bytes.",
     [](SessionConfig& c, py::handle v) { add_external_data(c.options, v, c.external_data); }},
    {"cpu_arena", "None", "bool | None",
     "Whether the CPU provider allocates from its arena (ONNX Runtime's default: on).",
     [](SessionConfig& c, py::handle v) {
       bool_option("cpu_arena", v) ? c.options.EnableCpuMemArena() : c.options.DisableCpuMemArena();
     }},
    {"memory_pattern", "None", "bool | None",
     "Whether ONNX Runtime plans memory from the first run's shapes (its default: on).",
     [](SessionConfig& c, py::handle v) {
       bool_option("memory_pattern", v) ? c.options.EnableMemPattern() : c.options.DisableMemPattern();
     }},
    {"optimized_model", "None", "str | os.PathLike[str] | None",
     "A path where ONNX Runtime writes the model as optimized for this session (SetOptimizedModelFilePath).",
     [](SessionConfig& c, py::handle v) {
       c.options.SetOptimizedModelFilePath(path_option("optimized model path", v).c_str());
     }},
    {"deterministic", "None", "bool | None",
     "Whether kernels that have a deterministic variant use it (SetDeterministicCompute; ONNX Runtime's default: "
     "off).",
     [](SessionConfig& c, py::handle v) { c.options.SetDeterministicCompute(bool_option("deterministic", v)); }},
    {"log_level", "None", "Literal['verbose', 'info', 'warning', 'error', 'fatal'] | None",
     "Which of this session's log records ONNX Runtime makes (SetSessionLogSeverityLevel); within what its Env "
     "logs, default the Env's level.",
     [](SessionConfig& c, py::handle v) { c.options.SetLogSeverityLevel(parse_level(text_option("log_level", v))); }},
    {"reuse_outputs", "None", "bool | None",
     "Whether run() hands the buffers of outputs Python has dropped back to ONNX Runtime to write into (default: "
     "on; off for a model whose runs must never be repeated).",
     [](SessionConfig& c, py::handle v) { c.reuse_outputs = bool_option("reuse_outputs", v); }},
};

}  // namespace

void parse_session_options(SessionConfig& config, py::handle options) {
  std::map<std::string, py::handle> given;
  for (auto item : py::reinterpret_borrow<py::dict>(options)) {
    if (item.second.is_none()) continue;
    given.emplace(item.first.cast<std::string>(), item.second);
  }
  for (const SessionOption& option : kSessionOptions) {
    auto found = given.find(option.name);
    if (found == given.end()) continue;
    option.parse(config, found->second);
    given.erase(found);
  }
  if (!given.empty()) {
    std::string names;
    for (const SessionOption& option : kSessionOptions) names += (names.empty() ? "" : ", ") + std::string(option.name);
    throw py::type_error("Session() got an unexpected keyword argument " + quoted(given.begin()->first) +
                         "; its options are " + names);
  }
}

py::tuple session_options_table() {
  py::list table;
  for (const SessionOption& o : kSessionOptions)
    table.append(py::make_tuple(o.name, o.default_text, o.annotation, o.doc));
  return py::tuple(table);
}

}  // namespace ortbind
