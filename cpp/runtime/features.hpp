// What ortbind can do with the runtime it loaded. ONNX Runtime's C API only grows: version N's
// table is version N-1's with functions appended. ortbind needs the baseline version for everything
// it always does, and each feature below needs the version that brought its functions. A feature
// is available when both the loaded runtime and the headers ortbind was built with have that
// version; one that is not is refused on its own, with the versions named, never the whole runtime.
#pragma once
#include "common.hpp"

#include <cstdint>

// Whether the headers of this build declare C API version `n` (code using a newer function is
// compiled only then).
#define ORTBIND_HEADERS_HAVE(n) (ORT_API_VERSION >= (n))

namespace ortbind {

// The oldest C API ortbind runs on (ONNX Runtime 1.21).
inline constexpr uint32_t kBaselineApi = 21;

enum class Feature {
  kProviderLibraries,  // RegisterExecutionProviderLibrary, GetEpDevices, AppendExecutionProvider_V2
  kProviderPolicy,     // SessionOptionsSetEpSelectionPolicy
  kLoadCancellation,   // SessionOptionsSetLoadCancellationFlag
  kCompile,            // the compile API (EPContext models)
  kCompileFlags,       // ModelCompilationOptions_SetFlags
  kNodeAssignment,     // Session_GetEpGraphAssignmentInfo
  kRunProfiling,       // RunOptionsEnableProfiling
  kCount,
};

struct FeatureInfo {
  Feature feature;
  const char* name;  // as ortbind.runtime.FEATURES names it
  uint32_t api;      // the C API version that brought it
};

const FeatureInfo& feature_info(Feature feature);
// The C API version in use: the loaded runtime's, up to the headers'.
uint32_t api_version();
bool available(Feature feature);
// NotImplementedInRuntime naming what needs which version, and what this runtime and build have.
void require(Feature feature, const char* what);

}  // namespace ortbind
