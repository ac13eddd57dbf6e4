// Registration of each area with the Python module, one register_*.cpp per area: only what Python
// sees (classes, functions, constants and their docstrings), over logic that lives elsewhere.
// module.cpp calls them in order.
#pragma once
#include "common.hpp"

namespace ortbind {

void register_errors(py::module_& m);
void register_runtime(py::module_& m);
void register_values(py::module_& m);
void register_env(py::module_& m);
void register_contract(py::module_& m);
void register_stop(py::module_& m);
void register_extras(py::module_& m);
void register_session(py::module_& m);
void register_binding(py::module_& m);

}  // namespace ortbind
