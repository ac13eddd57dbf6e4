// DLPack in and out. In, the protocol as the Python array API standard gives it to a consumer:
// __dlpack_device__ first, then __dlpack__(max_version=...) with a fallback to the unversioned call;
// the capsule is renamed "used_..." once the tensor is ours, and our own capsule (the numpy array's
// base) calls the producer's deleter. numpy's np.from_dlpack would do the same for the dtypes numpy
// has, but refuses bfloat16 and float8 ("Unsupported dtype in DLTensor"), so one reader serves them
// all, with one set of messages.
#include "values/dlpack.hpp"

#include "values/dlpack_abi.hpp"
#include "values/element_types.hpp"

#include <array>
#include <atomic>
#include <vector>

namespace ortbind {
namespace {

// Our capsules that own a producer's tensor, as the base of the numpy array over its buffer.
constexpr const char* kOwnerVersioned = "ortbind.dltensor_versioned";
constexpr const char* kOwnerLegacy = "ortbind.dltensor";

// Run when the array and every view of it are gone, with the GIL held; the producer's deleter may
// run Python code (numpy's drops an array), so an error being raised meanwhile is kept aside.
template <typename Managed>
void release_owned(PyObject* owner, const char* name) {
  py::error_scope keep_raised;
  auto* managed = static_cast<Managed*>(PyCapsule_GetPointer(owner, name));
  if (managed != nullptr && managed->deleter != nullptr) managed->deleter(managed);
}
void release_owned_versioned(PyObject* owner) { release_owned<dlpack::ManagedTensorVersioned>(owner, kOwnerVersioned); }
void release_owned_legacy(PyObject* owner) { release_owned<dlpack::ManagedTensor>(owner, kOwnerLegacy); }

std::string type_name(py::handle obj) {
  py::handle type = reinterpret_cast<PyObject*>(Py_TYPE(obj.ptr()));
  py::object module = py::getattr(type, "__module__", py::none());
  std::string name = py::str(py::getattr(type, "__qualname__", py::str(Py_TYPE(obj.ptr())->tp_name)));
  if (PyUnicode_Check(module.ptr()) && module.cast<std::string>() != "builtins")
    name = module.cast<std::string>() + "." + name;
  return name;
}

std::string device_name(const dlpack::Device& device) {
  static constexpr std::array<const char*, 18> kNames{
      nullptr, "cpu",  "cuda",      "cuda_host", "opencl",       nullptr,  nullptr,  "vulkan",  "metal",
      "vpi",   "rocm", "rocm_host", "ext_dev",   "cuda_managed", "oneapi", "webgpu", "hexagon", "maia"};
  const auto type = static_cast<size_t>(device.device_type);
  const char* name = type < kNames.size() ? kNames[type] : nullptr;
  return (name != nullptr ? std::string(name) : "DLPack device type " + std::to_string(device.device_type)) + ":" +
         std::to_string(device.device_id);
}

[[noreturn]] void refuse_device(const std::string& what, py::handle obj, const dlpack::Device& device) {
  fail(Problem::Value, what + " is a " + type_name(obj) + " on " + device_name(device) +
                           "; ortbind reads tensors in CPU memory only: copy it to the CPU first");
}

std::string data_type_name(const dlpack::DataType& type) {
  if (type.lanes == 1)
    for (const ElementInfo& info : kElements)
      if (info.dlpack >= 0 && info.dlpack == type.code && info.bits == type.bits) return info.name;
  std::string name = "DLPack type code " + std::to_string(type.code) + " of " + std::to_string(type.bits) + " bits";
  if (type.lanes != 1) name += " in " + std::to_string(type.lanes) + " lanes";
  return name;
}

std::string error_text(py::error_already_set& error) {
  return py::str(error.type().attr("__name__")).cast<std::string>() + ": " + py::str(error.value()).cast<std::string>();
}

// The producer's capsule: versioned where the producer knows the protocol's version 1, else the
// unversioned one (a producer older than max_version refuses the keyword with TypeError).
py::object export_capsule(py::handle obj, py::handle method, const std::string& what) {
  try {
    return method(py::arg("max_version") = py::make_tuple(dlpack::kMajor, dlpack::kMinor));
  } catch (py::error_already_set& error) {
    if (!error.matches(PyExc_TypeError))
      fail(Problem::Value, what + " (a " + type_name(obj) + ") could not be read through DLPack: " + error_text(error));
  }
  try {
    return method();
  } catch (py::error_already_set& error) {
    fail(Problem::Value, what + " (a " + type_name(obj) + ") could not be read through DLPack: " + error_text(error));
  }
}

}  // namespace

bool has_dlpack(py::handle obj) {
  return !PyArray_Check(obj.ptr()) && PyObject_HasAttrString(obj.ptr(), "__dlpack__") == 1;
}

namespace {

// The device first, as the protocol asks: a tensor elsewhere is refused before it is exported.
void check_device(py::handle obj, const std::string& what) {
  py::object device_method = py::getattr(obj, "__dlpack_device__", py::none());
  if (device_method.is_none()) return;
  py::tuple device = device_method();
  if (device.size() != 2)
    fail(Problem::Kind, what + " (a " + type_name(obj) + "): __dlpack_device__ returned no (type, id) pair");
  const dlpack::Device where{device[0].cast<int32_t>(), device[1].cast<int32_t>()};
  if (where.device_type != dlpack::kCPU) refuse_device(what, obj, where);
}

// The managed tensor inside a producer's capsule, which still owns it.
struct Opened {
  void* managed = nullptr;
  dlpack::Tensor* tensor = nullptr;
  bool versioned = false;
  bool read_only = false;
};

Opened open_capsule(py::handle capsule, py::handle obj, const std::string& what) {
  if (PyCapsule_IsValid(capsule.ptr(), dlpack::kVersionedName)) {
    auto* m = static_cast<dlpack::ManagedTensorVersioned*>(PyCapsule_GetPointer(capsule.ptr(), dlpack::kVersionedName));
    // Past the version, a newer major version may lay the struct out otherwise: nothing else is read.
    if (m->version.major != dlpack::kMajor)
      fail(Problem::Value, what + " (a " + type_name(obj) + ") comes as DLPack " + std::to_string(m->version.major) +
                               "." + std::to_string(m->version.minor) + ", which ortbind cannot read (it reads " +
                               std::to_string(dlpack::kMajor) + ".x)");
    return {m, &m->dl_tensor, true, (m->flags & dlpack::kFlagReadOnly) != 0};
  }
  if (PyCapsule_IsValid(capsule.ptr(), dlpack::kLegacyName)) {
    auto* m = static_cast<dlpack::ManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), dlpack::kLegacyName));
    return {m, &m->dl_tensor, false, false};
  }
  fail(Problem::Kind, what + " (a " + type_name(obj) + "): __dlpack__ returned a " + type_name(capsule) +
                          ", not an unused DLPack capsule");
}

// The same rules as for numpy inputs: the element type the model declares, never a cast.
void check_element(const dlpack::Tensor& tensor, ONNXTensorElementDataType element, py::handle obj,
                   const std::string& what) {
  if (tensor.device.device_type != dlpack::kCPU) refuse_device(what, obj, tensor.device);
  if (static_cast<size_t>(element) >= kElements.size())
    fail(Problem::DType, what + " has element type " + std::to_string(element) + ", which ortbind does not know");
  const ElementInfo& wanted = kElements[static_cast<size_t>(element)];
  const dlpack::DataType& given = tensor.dtype;
  if (wanted.dlpack < 0)
    fail(Problem::DType, what + " is " + wanted.name + ", which DLPack does not lay out as ONNX Runtime does; give " +
                             "it as a numpy array");
  if (given.lanes != 1 || given.code != wanted.dlpack || given.bits != wanted.bits)
    fail(Problem::DType, what + " expects " + wanted.name + ", got a " + type_name(obj) + " of " +
                             data_type_name(given) + " (through DLPack); convert it yourself: ortbind never casts");
  if (tensor.ndim < 0 || tensor.ndim > NPY_MAXDIMS)
    fail(Problem::Value, what + " has " + std::to_string(tensor.ndim) + " dims, more than numpy allows");
}

struct Layout {
  std::array<npy_intp, NPY_MAXDIMS> shape{};
  std::array<npy_intp, NPY_MAXDIMS> strides{};  // bytes; unused where the tensor gives none
  npy_intp count = 1;
};

Layout layout_of(const dlpack::Tensor& tensor, npy_intp item, const std::string& what) {
  Layout layout;
  for (int i = 0; i < tensor.ndim; ++i) {
    if (tensor.shape[i] < 0)
      fail(Problem::Value, what + " has a negative dim in its DLPack shape: " + std::to_string(tensor.shape[i]));
    const auto k = static_cast<size_t>(i);
    layout.shape[k] = static_cast<npy_intp>(tensor.shape[i]);
    // DLPack counts strides in elements, numpy in bytes; none given means compact row-major.
    if (tensor.strides != nullptr) layout.strides[k] = static_cast<npy_intp>(tensor.strides[i]) * item;
    layout.count *= layout.shape[k];
  }
  return layout;
}

// Takes the tensor over from the producer's capsule: renamed, that capsule leaves it to `owner`,
// whose destructor calls the producer's deleter once the array over it is gone.
py::object adopt(py::handle capsule, const Opened& opened, PyArray_Descr* descr, Layout& layout) {
  char* data = static_cast<char*>(opened.tensor->data) + opened.tensor->byte_offset;
  PyCapsule_SetName(capsule.ptr(), opened.versioned ? dlpack::kUsedVersionedName : dlpack::kUsedLegacyName);
  PyObject* owner = PyCapsule_New(opened.managed, opened.versioned ? kOwnerVersioned : kOwnerLegacy,
                                  opened.versioned ? release_owned_versioned : release_owned_legacy);
  if (owner == nullptr) {
    PyCapsule_SetName(capsule.ptr(), opened.versioned ? dlpack::kVersionedName : dlpack::kLegacyName);
    throw py::error_already_set();
  }
  py::object owned = py::reinterpret_steal<py::object>(owner);
  Py_INCREF(descr);  // steals it
  // numpy works out contiguity and alignment from the strides and the pointer, so a strided
  // tensor takes the one contiguous copy a strided array takes.
  PyObject* array = PyArray_NewFromDescr(&PyArray_Type, descr, opened.tensor->ndim, layout.shape.data(),
                                         opened.tensor->strides != nullptr ? layout.strides.data() : nullptr, data,
                                         opened.read_only ? 0 : NPY_ARRAY_WRITEABLE, nullptr);
  if (array == nullptr) throw py::error_already_set();
  py::object result = py::reinterpret_steal<py::object>(array);
  if (PyArray_SetBaseObject(reinterpret_cast<PyArrayObject*>(array), owned.release().ptr()) != 0)  // steals it
    throw py::error_already_set();
  return result;
}

}  // namespace

py::object dlpack_view(py::handle obj, ONNXTensorElementDataType element, const std::string& what) {
  py::object method = py::getattr(obj, "__dlpack__", py::none());
  if (method.is_none()) return {};
  check_device(obj, what);
  // Until adopt() renames the capsule, the producer's capsule destructor still owns the tensor:
  // every refusal up to there leaves it to that destructor.
  py::object capsule = export_capsule(obj, method, what);
  const Opened opened = open_capsule(capsule, obj, what);
  check_element(*opened.tensor, element, obj, what);
  PyArray_Descr* descr = numpy_descr(element, what);
  Layout layout = layout_of(*opened.tensor, PyDataType_ELSIZE(descr), what);
  if (layout.count == 0) {
    // No buffer to share; the producer's capsule destructor deletes its tensor as it goes.
    Py_INCREF(descr);  // steals it
    PyObject* empty = PyArray_Empty(opened.tensor->ndim, layout.shape.data(), descr, 0);
    if (empty == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(empty);
  }
  if (opened.tensor->data == nullptr) fail(Problem::Value, what + " (a " + type_name(obj) + ") has no data pointer");
  return adopt(capsule, opened, descr, layout);
}

namespace {

// What an exported capsule's tensor points into: the numpy array, referenced until the consumer
// calls the deleter, and the shape and strides the tensor points to.
struct Exported {
  dlpack::ManagedTensorVersioned versioned{};
  dlpack::ManagedTensor legacy{};
  PyObject* array = nullptr;  // a strong reference
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
};

// Consumers call the deleter from whatever thread drops their tensor, with or without the GIL
// (torch frees a tensor where its last reference goes); after the interpreter has finalized there
// is nothing left to release.
template <typename Managed>
void delete_exported(Managed* self) {
  if (!Py_IsInitialized()) return;
  PyGILState_STATE state = PyGILState_Ensure();
  {
    py::error_scope keep_raised;
    auto* exported = static_cast<Exported*>(self->manager_ctx);
    Py_XDECREF(exported->array);
    delete exported;
  }
  PyGILState_Release(state);
}

// An exported capsule never consumed: still under its first name, the tensor is ours to delete.
template <typename Managed>
void drop_unconsumed(PyObject* capsule, const char* name) {
  if (!PyCapsule_IsValid(capsule, name)) return;  // renamed by its consumer, which calls the deleter
  auto* managed = static_cast<Managed*>(PyCapsule_GetPointer(capsule, name));
  managed->deleter(managed);
}
void drop_unconsumed_versioned(PyObject* capsule) {
  drop_unconsumed<dlpack::ManagedTensorVersioned>(capsule, dlpack::kVersionedName);
}
void drop_unconsumed_legacy(PyObject* capsule) { drop_unconsumed<dlpack::ManagedTensor>(capsule, dlpack::kLegacyName); }

std::atomic<PyTypeObject*> g_dlpack_array_type{nullptr};

}  // namespace

py::object dlpack_capsule(py::handle array, bool versioned, bool copied) {
  if (!PyArray_Check(array.ptr())) fail(Problem::Kind, "only numpy arrays export through ortbind's DLPack");
  auto* arr = reinterpret_cast<PyArrayObject*>(array.ptr());
  PyArray_Descr* descr = PyArray_DESCR(arr);
  const ONNXTensorElementDataType element = element_of(descr);
  const ElementInfo& info = kElements[static_cast<size_t>(element)];
  if (info.dlpack < 0) throw py::buffer_error("DLPack cannot hold this array's elements (" + dtype_name(descr) + ")");
  if (!PyArray_ISNOTSWAPPED(arr)) throw py::buffer_error("DLPack holds elements in native byte order only");
  if (!versioned && !PyArray_ISWRITEABLE(arr))
    throw py::buffer_error("a read-only array exports only through versioned DLPack (max_version=(1, 0) or newer)");
  const int ndim = PyArray_NDIM(arr);
  const npy_intp item = PyArray_ITEMSIZE(arr);
  auto exported = std::make_unique<Exported>();
  exported->shape.assign(PyArray_DIMS(arr), PyArray_DIMS(arr) + ndim);
  exported->strides.resize(static_cast<size_t>(ndim));
  for (int i = 0; i < ndim; ++i) {
    const npy_intp stride = PyArray_STRIDES(arr)[i];
    if (stride % item != 0) throw py::buffer_error("DLPack counts strides in whole elements; this array's are not");
    exported->strides[static_cast<size_t>(i)] = stride / item;
  }
  dlpack::Tensor tensor{};
  tensor.data = PyArray_DATA(arr);
  tensor.device = {dlpack::kCPU, 0};
  tensor.ndim = ndim;
  tensor.dtype = {static_cast<uint8_t>(info.dlpack), static_cast<uint8_t>(info.bits), 1};
  tensor.shape = exported->shape.data();
  tensor.strides = exported->strides.data();
  tensor.byte_offset = 0;

  void* managed = nullptr;
  if (versioned) {
    exported->versioned.version = {dlpack::kMajor, dlpack::kMinor};
    exported->versioned.manager_ctx = exported.get();
    exported->versioned.deleter = delete_exported<dlpack::ManagedTensorVersioned>;
    exported->versioned.flags =
        (PyArray_ISWRITEABLE(arr) ? 0 : dlpack::kFlagReadOnly) | (copied ? dlpack::kFlagIsCopied : 0);
    exported->versioned.dl_tensor = tensor;
    managed = &exported->versioned;
  } else {
    exported->legacy.dl_tensor = tensor;
    exported->legacy.manager_ctx = exported.get();
    exported->legacy.deleter = delete_exported<dlpack::ManagedTensor>;
    managed = &exported->legacy;
  }
  PyObject* capsule = PyCapsule_New(managed, versioned ? dlpack::kVersionedName : dlpack::kLegacyName,
                                    versioned ? drop_unconsumed_versioned : drop_unconsumed_legacy);
  if (capsule == nullptr) throw py::error_already_set();
  // The array stays alive, and its buffer with it, until the consumer is done with the tensor.
  Py_INCREF(array.ptr());
  exported.release()->array = array.ptr();
  return py::reinterpret_steal<py::object>(capsule);
}

void set_dlpack_array_type(PyTypeObject* type) {
  Py_INCREF(type);  // kept for the life of the process, as every output may be made of it
  g_dlpack_array_type.store(type, std::memory_order_release);
}

PyTypeObject* dlpack_array_type() {
  PyTypeObject* type = g_dlpack_array_type.load(std::memory_order_acquire);
  return type != nullptr ? type : &PyArray_Type;
}

}  // namespace ortbind
