#include "stop/gil_released.hpp"

#include "stop/runs_in_flight.hpp"

#include <chrono>
#include <thread>

namespace ortbind {

GilReleased::~GilReleased() {
  if (exit_wait_over() && std::this_thread::get_id() != exit_thread())
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  PyEval_RestoreThread(state_);
}

}  // namespace ortbind
