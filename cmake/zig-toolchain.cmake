# Builds _core for a manylinux wheel (`make wheel`): zig's clang++ compiles against the stubs of an
# old glibc (the target's version, e.g. x86_64-linux-gnu.2.17) and links zig's own libc++ statically,
# so the module needs no libstdc++ and no glibc symbol newer than that version. The host stays the
# target's OS and architecture, so this is not a cross build (FindPython still runs the interpreter).
#
# Environment: ORTBIND_ZIG, the zig binary (the `ziglang` package ships one); ORTBIND_ZIG_TARGET,
# zig's target triple with the glibc version. cmake/zig-c++ reads both on every call.
foreach(var ORTBIND_ZIG ORTBIND_ZIG_TARGET)
  if(NOT DEFINED ENV{${var}})
    message(FATAL_ERROR "cmake/zig-toolchain.cmake needs ${var} in the environment (see `make wheel`)")
  endif()
endforeach()

set(CMAKE_CXX_COMPILER "${CMAKE_CURRENT_LIST_DIR}/zig-c++")
# The static libc++ would otherwise leave its replaceable operator new/delete exported (weak), free
# to be bound to another library's; the module exports its init function alone.
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-Wl,--version-script=${CMAKE_CURRENT_LIST_DIR}/zig-exports.map")
