// The one table of tensor element types: ONNX Runtime's codes, their names, their numpy dtypes and
// what their numbers are. Everything that names or converts an element type derives from it.
#pragma once
#include "common.hpp"

#include "values/dlpack_abi.hpp"

#include <array>
#include <string>

namespace ortbind {

struct ElementInfo {
  ONNXTensorElementDataType element;
  const char* name;
  int type_num;           // numpy's builtin type number, or -1 (ml_dtypes or none)
  const char* ml_dtypes;  // the ml_dtypes attribute that holds it in numpy, or nullptr
  char number_kind;       // what its numbers are, for exact conversion: 'f', 'i', 'u', 'b', 'c'; 0 for strings
  int bits;               // bits per element in ONNX Runtime's buffer
  int dlpack;             // DLPack's type code for these bits (dlpack::TypeCode), or -1 where DLPack has
                          // none or lays the elements out otherwise (strings, the packed sub-byte types)
};

// Indexed by ONNXTensorElementDataType. Python reads it as _core.ELEMENT_TYPES.
extern const std::array<ElementInfo, 27> kElements;

const char* element_name(ONNXTensorElementDataType element);

// The numpy dtype of a tensor element type (bfloat16 and float8 through ml_dtypes, when
// installed); DTypeError naming `what` when numpy cannot hold it. Borrowed reference.
PyArray_Descr* numpy_descr(ONNXTensorElementDataType element, const std::string& what);
// The same descriptor once numpy_descr has loaded it, else nullptr; never raises.
PyArray_Descr* loaded_descr(ONNXTensorElementDataType element);
// Whether an array of this dtype holds exactly these elements (same kind and width: int64 and
// longlong match; float64 never matches float32).
bool dtype_matches(const PyArray_Descr* given, ONNXTensorElementDataType element);
// The bits of a sub-byte element (4 or 2), which ONNX Runtime packs several to a byte and numpy
// holds one to a byte; 0 for every other element type.
int packed_bits(ONNXTensorElementDataType element);
// The element type of a numpy dtype (exactly, as dtype_matches), or UNDEFINED.
ONNXTensorElementDataType element_of(const PyArray_Descr* descr);
// numpy's name of a dtype, for messages.
std::string dtype_name(const PyArray_Descr* descr);

}  // namespace ortbind
