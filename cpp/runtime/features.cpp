#include "runtime/features.hpp"

#include "runtime/library.hpp"

#include <array>
#include <string>

namespace ortbind {
namespace {

constexpr std::array<FeatureInfo, static_cast<size_t>(Feature::kCount)> kFeatures{{
    {Feature::kProviderLibraries, "provider_libraries", 22},
    {Feature::kProviderPolicy, "provider_policy", 22},
    {Feature::kLoadCancellation, "load_cancellation", 22},
    {Feature::kCompile, "compile", 22},
    {Feature::kCompileFlags, "compile_flags", 23},
    {Feature::kNodeAssignment, "node_assignment", 24},
    {Feature::kRunProfiling, "run_profiling", 25},
}};

}  // namespace

const FeatureInfo& feature_info(Feature feature) { return kFeatures[static_cast<size_t>(feature)]; }

uint32_t api_version() { return runtime_info().api_version; }

bool available(Feature feature) {
  const uint32_t needed = feature_info(feature).api;
  return needed <= api_version() && needed <= static_cast<uint32_t>(ORT_API_VERSION);
}

void require(Feature feature, const char* what) {
  if (available(feature)) return;
  const uint32_t needed = feature_info(feature).api;
  std::string why;
  if (needed > static_cast<uint32_t>(ORT_API_VERSION))
    why = "this ortbind was built with the headers of C API version " + std::to_string(ORT_API_VERSION) +
          "; build it with newer ONNX Runtime headers (ONNXRUNTIME_ROOT)";
  else
    why = "the loaded runtime (ONNX Runtime " + runtime_info().version + ", " + runtime_info().path +
          ") provides C API version " + std::to_string(api_version()) + "; install onnxruntime>=1." +
          std::to_string(needed) + " or point ORTBIND_LIBRARY at one";
  throw OrtError(ORT_NOT_IMPLEMENTED,
                 std::string(what) + " needs ONNX Runtime's C API version " + std::to_string(needed) + ": " + why);
}

}  // namespace ortbind
