#include "runtime/fork.hpp"

namespace ortbind {
namespace {

// Registered as the library loads, before any session or run can exist.
[[maybe_unused]] const int g_counts_forks =
    pthread_atfork(nullptr, nullptr, [] { detail::fork_generation.fetch_add(1); });

}  // namespace
}  // namespace ortbind
