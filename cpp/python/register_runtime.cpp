// ortbind.runtime's facts and functions: the loaded library, the C API in use and the features it
// allows, its providers, provider libraries and devices, its log, and the compile API. The library
// is loaded here, as the module is imported: every later area calls into it.
#include "python/register.hpp"

#include "runtime/features.hpp"
#include "runtime/library.hpp"
#include "runtime/log_queue.hpp"
#include "runtime/provider_libraries.hpp"
#include "session/compile.hpp"
#include "session/providers.hpp"
#include "stop/gil_released.hpp"

namespace ortbind {
namespace {

py::list pairs_to_python(const std::vector<std::pair<std::string, std::string>>& pairs) {
  py::list out;
  for (const auto& [key, value] : pairs) out.append(py::make_tuple(key, value));
  return out;
}

// (ep_name, ep_vendor, ep_metadata, ep_options, type, vendor, vendor_id, device_id, metadata) per
// device; ortbind.runtime makes them Device objects.
py::list devices() {
  py::list out;
#if ORTBIND_HEADERS_HAVE(22)
  std::vector<DeviceInfo> described;
  {
    std::shared_ptr<EnvCore> env;
    {
      GilReleased release;
      env = default_env();
    }
    described = describe_devices(*env);
  }
  for (const DeviceInfo& d : described)
    out.append(py::make_tuple(d.ep_name, d.ep_vendor, pairs_to_python(d.ep_metadata), pairs_to_python(d.ep_options),
                              d.type, d.vendor, d.vendor_id, d.device_id, pairs_to_python(d.metadata)));
#else
  require(Feature::kProviderLibraries, "devices()");
#endif
  return out;
}

// (severity name, category, log id, code location, message) per queued record.
py::list take_log_records_for_python() {
  const std::vector<LogRecord> records = take_log_records();
  py::list out;
  for (const LogRecord& r : records)
    out.append(py::make_tuple(level_name(r.severity), message_text(r.category.c_str()), message_text(r.log_id.c_str()),
                              message_text(r.location.c_str()), message_text(r.message.c_str())));
  return out;
}

void register_facts(py::module_& m) {
  m.attr("RUNTIME_PATH") = runtime_info().path;
  m.attr("RUNTIME_VERSION") = runtime_info().version;
  m.attr("API_VERSION") = api_version();
  m.attr("BUILD_API_VERSION") = ORT_API_VERSION;
  // The headers this module was compiled against: the benchmark suite builds its C++ floor with them.
  m.attr("HEADERS_DIR") = ORTBIND_ORT_INCLUDE_DIR;
  py::dict features;
  for (size_t i = 0; i < static_cast<size_t>(Feature::kCount); ++i) {
    const FeatureInfo& info = feature_info(static_cast<Feature>(i));
    features[info.name] = py::make_tuple(info.api, available(info.feature));
  }
  // name -> (the C API version it needs, whether it is available here)
  m.attr("FEATURES") = features;
}

}  // namespace

void register_runtime(py::module_& m) {
  load_runtime(py::module_::import("ortbind._library").attr("library_path")().cast<std::string>());
  register_facts(m);
  m.def(
      "available_providers", [] { return available_providers(); },
      "available_providers()\n--\n\nExecution providers compiled into the loaded ONNX Runtime, in its order of "
      "preference, then the registered provider libraries.");
  m.def(
      "register_provider_library",
      [](const std::string& name, const std::string& path) { register_provider_library(name, path); }, py::arg("name"),
      py::arg("path"),
      "register_provider_library(name, path)\n--\n\nRegisters an execution provider library (a plugin) from its "
      "absolute path under a name.");
  m.def(
      "unregister_provider_library", [](const std::string& name) { unregister_provider_library(name); },
      py::arg("name"), "unregister_provider_library(name)\n--\n\nUnregisters a provider library no live session uses.");
  m.def("_devices", &devices, "_devices()\n--\n\nThe devices the runtime offers, as tuples.");
  m.def("_take_log_records", &take_log_records_for_python,
        "_take_log_records()\n--\n\nONNX Runtime's queued log records, oldest first.");
  m.def(
      "_wait_for_log_records",
      [](double timeout) {
        GilReleased release;
        return wait_for_log_records(timeout);
      },
      py::arg("timeout"),
      "_wait_for_log_records(timeout)\n--\n\nWaits up to timeout seconds, without the GIL, for a record to be "
      "queued; whether one is.");
  m.def(
      "_log_queue_closed", [] { return log_queue_closed(); },
      "_log_queue_closed()\n--\n\nWhether the log queue was closed (interpreter exit).");
  m.def(
      "_dropped_log_records", [] { return dropped_log_records(); },
      "_dropped_log_records()\n--\n\nLog records dropped because nobody read them.");
  m.def(
      "compile",
      [](py::handle model, py::handle output, py::handle env, bool embed, bool require_compiled, bool overwrite,
         const py::kwargs& options) {
        compile_model({model, output, env, options, embed, require_compiled, overwrite});
      },
      py::arg("model"), py::arg("output"), py::kw_only(), py::arg("env") = py::none(), py::arg("embed") = false,
      py::arg("require_compiled") = false, py::arg("overwrite") = true,
      "compile(model, output, *, env=None, embed=False, require_compiled=False, overwrite=True, **options)\n--\n\n"
      "Compiles the model for its execution providers into an EPContext model at output.");
}

}  // namespace ortbind
