// What stopping means to ONNX Runtime: setting a flag it checks as it goes. A run checks its
// OrtRunOptions' terminate flag between two nodes; a session being made checks its
// OrtSessionOptions' load cancellation flag between the steps of loading. The token, the time
// limit and Ctrl-C stop either through this.
#pragma once
#include "common.hpp"

namespace ortbind {

struct StopTarget {
  // Sets the flag: one store in ONNX Runtime, safe from a signal handler and from any thread.
  void (*set)(void* object) = nullptr;
  void* object = nullptr;

  void stop() const { set(object); }
  bool operator==(const StopTarget& other) const { return set == other.set && object == other.object; }

  static StopTarget run(OrtRunOptions* options) {
    return {[](void* o) { discard(api().RunOptionsSetTerminate(static_cast<OrtRunOptions*>(o))); }, options};
  }
#if ORT_API_VERSION >= 22
  // Needs load cancellation (C API 22): the caller checks that the runtime has it.
  static StopTarget load(OrtSessionOptions* options) {
    return {
        [](void* o) { discard(api().SessionOptionsSetLoadCancellationFlag(static_cast<OrtSessionOptions*>(o), true)); },
        options};
  }
#endif
};

}  // namespace ortbind
