// CompiledContract: an opaque handle on a contract compiled in C++ (session/contract.hpp).
#include "python/register.hpp"

#include "session/contract.hpp"

namespace ortbind {

void register_contract(py::module_& m) {
  py::class_<Contract, std::shared_ptr<Contract>>(
      m, "CompiledContract",
      "CompiledContract()\n--\n\n"
      "A shape contract compiled for one session (Session._compile_contract); checked in C++.");
}

}  // namespace ortbind
