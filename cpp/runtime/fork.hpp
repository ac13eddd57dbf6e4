// What fork() leaves to the child. POSIX copies only the thread that calls fork: every other thread
// of the parent (ONNX Runtime's pools, the watchdog, other Python threads) is simply absent there.
#pragma once
#include "common.hpp"

#include <atomic>
#include <mutex>

#include <pthread.h>

namespace ortbind {

// A process-wide lock that another thread held at the fork would stay held in the child for good
// (the thread that would release it does not exist there), and the data it guards could be copied
// half-changed. So each of ortbind's global locks is taken by the forking thread just before fork
// (pthread_atfork's prepare step: no other thread is then inside its critical section, and what it
// guards is copied whole) and released in parent and child right after; this is the use POSIX
// gives pthread_atfork. It cannot deadlock: no code path holds two of these locks at once, so the
// order the handlers take them in does not matter, and no holder waits for the GIL, which the
// forking thread may hold. Returns pthread_atfork's result; called once per lock, as the library
// loads.
template <std::mutex& Lock>
int keep_across_fork() {
  return pthread_atfork([] { Lock.lock(); }, [] { Lock.unlock(); }, [] { Lock.unlock(); });
}

namespace detail {
inline std::atomic<unsigned> fork_generation{0};  // bumped in the child of every fork (fork.cpp)
}

// Which process this is, in fork order. What depends on the parent's threads (a session's thread
// pools, a run counted in flight there) remembers the generation it was made in, and knows itself
// inherited when that differs.
inline unsigned fork_generation() { return detail::fork_generation.load(std::memory_order_relaxed); }

}  // namespace ortbind
