// Empty sequence inputs. OrtApi::CreateValue builds a sequence only from at least one element, and
// an empty sequence still carries its element type, so the C API has no direct way to make one.
// A one-node model (SequenceEmpty, opset 11, no inputs) produces exactly that value; its session is
// made once per element type and run whenever an empty sequence is fed.
#include "values/value.hpp"

#include "runtime/env.hpp"
#include "runtime/fork.hpp"

#include <map>
#include <mutex>

namespace ortbind {
namespace {

// The few protobuf encodings the model needs: varints, and length-delimited fields.
void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_int(std::string& out, int field, uint64_t value) {
  put_varint(out, static_cast<uint64_t>(field) << 3);
  put_varint(out, value);
}

void put_bytes(std::string& out, int field, const std::string& bytes) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | 2);
  put_varint(out, bytes.size());
  out += bytes;
}

// ModelProto { ir_version, opset_import { "", 11 }, graph { node SequenceEmpty(dtype) -> s,
// output s: sequence<tensor(dtype)> } }, field numbers as in onnx.proto.
std::string sequence_empty_model(ONNXTensorElementDataType element) {
  std::string attribute, node, tensor_type, tensor, sequence, type, output, graph, opset, model;
  put_bytes(attribute, 1, "dtype");
  put_int(attribute, 3, static_cast<uint64_t>(element));
  put_int(attribute, 20, 2);  // AttributeProto.INT
  put_bytes(node, 2, "s");
  put_bytes(node, 4, "SequenceEmpty");
  put_bytes(node, 5, attribute);
  put_int(tensor_type, 1, static_cast<uint64_t>(element));
  put_bytes(tensor, 1, tensor_type);  // TypeProto.tensor_type
  put_bytes(sequence, 1, tensor);     // TypeProto.Sequence.elem_type
  put_bytes(type, 4, sequence);       // TypeProto.sequence_type
  put_bytes(output, 1, "s");
  put_bytes(output, 2, type);
  put_bytes(graph, 1, node);
  put_bytes(graph, 2, "ortbind_empty_sequence");
  put_bytes(graph, 12, output);
  put_bytes(opset, 1, "");
  put_int(opset, 2, 11);
  put_int(model, 1, 7);
  put_bytes(model, 8, opset);
  put_bytes(model, 7, graph);
  return model;
}

// Sessions made on first use and never released: they may be needed until the process ends, and
// releasing them at exit could come after the environment is gone.
std::mutex g_makers_mutex;  // guards g_makers; never held while a session is made
[[maybe_unused]] const int g_makers_mutex_forks = keep_across_fork<g_makers_mutex>();
std::map<ONNXTensorElementDataType, OrtSession*> g_makers;

OrtSession* maker(ONNXTensorElementDataType element) {
  {
    std::lock_guard<std::mutex> lock(g_makers_mutex);
    auto found = g_makers.find(element);
    if (found != g_makers.end()) return found->second;
  }
  const std::string model = sequence_empty_model(element);
  Ort::SessionOptions options;
  options.SetIntraOpNumThreads(1);
  options.SetInterOpNumThreads(1);
  OrtSession* session = nullptr;
  check(api().CreateSessionFromArray(default_env()->env(), model.data(), model.size(), options, &session));
  std::lock_guard<std::mutex> lock(g_makers_mutex);
  auto [kept, made] = g_makers.emplace(element, session);
  if (!made) api().ReleaseSession(session);  // another thread made one meanwhile: the first stays
  return kept->second;
}

}  // namespace

OrtValue* empty_sequence(const ValueType& type, const std::string& what) {
  const ValueType& element = *type.contained;
  if (element.kind != ONNX_TYPE_TENSOR)
    fail(Problem::Value,
         what + " is an empty " + type.describe() + "; ONNX Runtime can make empty sequences of tensors only");
  try {
    OrtSession* session = maker(element.element);
    const char* output_name = "s";
    OrtValue* value = nullptr;
    check(api().Run(session, nullptr, nullptr, nullptr, 0, &output_name, 1, &value));
    return value;
  } catch (const OrtError& error) {
    fail(Problem::Value,
         what + " is an empty " + type.describe() + ", which this ONNX Runtime cannot make: " + error.what());
  }
}

}  // namespace ortbind
