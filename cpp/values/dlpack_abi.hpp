// The DLPack ABI: the few structs and codes of the DLPack specification (dlpack.h of the dmlc/dlpack
// project, Apache License 2.0) that ortbind reads and writes, written out from the specification
// at version 1.1. numpy's wheels do not ship dlpack.h, and these layouts are an ABI every producer
// and consumer shares: major version 1 keeps them, minor versions only add codes.
#pragma once
#include <cstdint>

namespace ortbind::dlpack {

// The version ortbind reads and writes. 1.1 adds the float8 type codes.
inline constexpr uint32_t kMajor = 1;
inline constexpr uint32_t kMinor = 1;

// The names a producer's capsule has before and after a consumer takes the tensor over; the
// producer's capsule destructor deletes the tensor only while the first name is still there.
inline constexpr const char* kVersionedName = "dltensor_versioned";
inline constexpr const char* kUsedVersionedName = "used_dltensor_versioned";
inline constexpr const char* kLegacyName = "dltensor";
inline constexpr const char* kUsedLegacyName = "used_dltensor";

struct Version {
  uint32_t major;
  uint32_t minor;
};

// DLDeviceType: the memory a tensor lives in.
enum DeviceType : int32_t {
  kCPU = 1,
  kCUDA = 2,
  kCUDAHost = 3,
  kOpenCL = 4,
  kVulkan = 7,
  kMetal = 8,
  kVPI = 9,
  kROCM = 10,
  kROCMHost = 11,
  kExtDev = 12,
  kCUDAManaged = 13,
  kOneAPI = 14,
  kWebGPU = 15,
  kHexagon = 16,
  kMAIA = 17,
};

struct Device {
  int32_t device_type;  // a DeviceType; kept as an integer so that an unknown one reads as itself
  int32_t device_id;
};

// DLDataTypeCode: what the bits of an element are.
enum TypeCode : uint8_t {
  kInt = 0,
  kUInt = 1,
  kFloat = 2,
  kOpaqueHandle = 3,
  kBfloat = 4,
  kComplex = 5,
  kBool = 6,
  kFloat8_e3m4 = 7,
  kFloat8_e4m3 = 8,
  kFloat8_e4m3b11fnuz = 9,
  kFloat8_e4m3fn = 10,
  kFloat8_e4m3fnuz = 11,
  kFloat8_e5m2 = 12,
  kFloat8_e5m2fnuz = 13,
  kFloat8_e8m0fnu = 14,
};

struct DataType {
  uint8_t code;  // a TypeCode
  uint8_t bits;
  uint16_t lanes;  // more than 1 for vector types, which ONNX has none of
};

struct Tensor {
  void* data;
  Device device;
  int32_t ndim;
  DataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; null for a compact row-major tensor
  uint64_t byte_offset;
};

// The unversioned protocol's tensor (capsule "dltensor").
struct ManagedTensor {
  Tensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(ManagedTensor* self);
};

inline constexpr uint64_t kFlagReadOnly = 1ULL << 0;
inline constexpr uint64_t kFlagIsCopied = 1ULL << 1;

// The versioned protocol's tensor (capsule "dltensor_versioned"): the version comes first, so that
// a consumer can refuse a major version it does not know before reading anything else.
struct ManagedTensorVersioned {
  Version version;
  void* manager_ctx;
  void (*deleter)(ManagedTensorVersioned* self);
  uint64_t flags;
  Tensor dl_tensor;
};

}  // namespace ortbind::dlpack
