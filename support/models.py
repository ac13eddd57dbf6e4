"""Small models for the tests and the benchmark suite, built with the onnx helper API.

Each builder returns the serialized model (bytes); none downloads anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
Dim = int | str | None


def _model(graph: onnx.GraphProto, opset: int = OPSET, check: bool = True) -> bytes:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8 if opset < 19 else 9  # as old as the opset allows
    if check:  # the checker wants a shape on every graph input and output
        onnx.checker.check_model(model)
    return model.SerializeToString()


def tensor(name: str, elem: int, shape: Sequence[Dim] | None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, None if shape is None else list(shape))


def identity(elem: int = TensorProto.FLOAT, shape: Sequence[Dim] | None = ("n",), opset: int = OPSET) -> bytes:
    """y = x; ``shape`` None leaves the rank unknown."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "identity", [tensor("x", elem, shape)], [tensor("y", elem, shape)]
    )
    return _model(graph, opset, check=shape is not None)


def mislabelled_output() -> bytes:
    """y = x of any rank, the output declared (wrongly, as converters do) as float[1, 5]."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "mislabelled",
        [tensor("x", TensorProto.FLOAT, None)],
        [tensor("y", TensorProto.FLOAT, [1, 5])],
    )
    return _model(graph, check=False)


def add(shape: Sequence[Dim] = ("batch", 3), elem: int = TensorProto.FLOAT) -> bytes:
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "y"], ["z"])],
        "add",
        [tensor("x", elem, shape), tensor("y", elem, shape)],
        [tensor("z", elem, shape)],
    )
    return _model(graph)


def add_one_element() -> bytes:
    """The per-call overhead workload: one float added to itself."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "x"], ["y"])],
        "add1",
        [tensor("x", TensorProto.FLOAT, [1])],
        [tensor("y", TensorProto.FLOAT, [1])],
    )
    return _model(graph)


def reduce_sum(shape: Sequence[Dim] = ("n",)) -> bytes:
    """A large input, a one-element output: what it costs to feed a big array."""
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["x"], ["y"], keepdims=0)],
        "reduce",
        [tensor("x", TensorProto.FLOAT, shape)],
        [tensor("y", TensorProto.FLOAT, [])],
    )
    return _model(graph)


def expand() -> bytes:
    """A one-element input, a large output of the given shape: what it costs to get a big array out."""
    graph = helper.make_graph(
        [helper.make_node("Expand", ["x", "shape"], ["y"])],
        "expand",
        [tensor("x", TensorProto.FLOAT, [1]), tensor("shape", TensorProto.INT64, [1])],
        [tensor("y", TensorProto.FLOAT, ["n"])],
    )
    return _model(graph)


def nonzero() -> bytes:
    """y = the indices of x's nonzero elements: an output whose size depends on x's values."""
    graph = helper.make_graph(
        [helper.make_node("NonZero", ["x"], ["y"])],
        "nonzero",
        [tensor("x", TensorProto.FLOAT, ["n"])],
        [tensor("y", TensorProto.INT64, [1, "k"])],
    )
    return _model(graph)


def many_io(count: int) -> bytes:
    """``count`` inputs x{i} and outputs y{i}, each y = x + x."""
    nodes = [helper.make_node("Add", [f"x{i}", f"x{i}"], [f"y{i}"]) for i in range(count)]
    graph = helper.make_graph(
        nodes,
        f"io{count}",
        [tensor(f"x{i}", TensorProto.FLOAT, [1]) for i in range(count)],
        [tensor(f"y{i}", TensorProto.FLOAT, [1]) for i in range(count)],
    )
    return _model(graph)


def _weights(name: str, shape: Sequence[int], rng: np.random.Generator) -> onnx.TensorProto:
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.1).astype(np.float32), name)


def mlp(features: int = 64, hidden: int = 128, classes: int = 10, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    inits = [
        _weights("w1", [features, hidden], rng),
        _weights("b1", [hidden], rng),
        _weights("w2", [hidden, classes], rng),
        _weights("b2", [classes], rng),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["a"]),
        helper.make_node("Gemm", ["a", "w2", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [tensor("x", TensorProto.FLOAT, ["batch", features])],
        [tensor("probs", TensorProto.FLOAT, ["batch", classes])],
        inits,
    )
    return _model(graph)


def matmul_hardmax(features: int = 64, classes: int = 10, seed: int = 0) -> bytes:
    """A MatMul then a Hardmax: an operator the ggml plugin lacks after one it has."""
    rng = np.random.default_rng(seed)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Hardmax", ["m"], ["y"], axis=1)],
        "matmul_hardmax",
        [tensor("x", TensorProto.FLOAT, ["batch", features])],
        [tensor("y", TensorProto.FLOAT, ["batch", classes])],
        [_weights("w", [features, classes], rng)],
    )
    return _model(graph)


def conv_net(channels: int = 16, size: int = 32, classes: int = 10, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    inits = [
        _weights("k1", [channels, 3, 3, 3], rng),
        _weights("k2", [channels, channels, 3, 3], rng),
        _weights("w", [channels, classes], rng),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "k1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "k2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("MatMul", ["f", "w"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "convnet",
        [tensor("x", TensorProto.FLOAT, ["batch", 3, size, size])],
        [tensor("logits", TensorProto.FLOAT, ["batch", classes])],
        inits,
    )
    return _model(graph)


def encoder_block(d_model: int = 64, ff: int = 256, seed: int = 0) -> bytes:
    """One single-head transformer encoder block (attention + feed-forward, with layer norms)."""
    rng = np.random.default_rng(seed)
    names = {
        "wq": [d_model, d_model],
        "wk": [d_model, d_model],
        "wv": [d_model, d_model],
        "wo": [d_model, d_model],
        "w1": [d_model, ff],
        "w2": [ff, d_model],
    }
    inits = [_weights(n, s, rng) for n, s in names.items()]
    inits += [
        numpy_helper.from_array(np.ones(d_model, np.float32), "g1"),
        numpy_helper.from_array(np.zeros(d_model, np.float32), "b1"),
        numpy_helper.from_array(np.ones(d_model, np.float32), "g2"),
        numpy_helper.from_array(np.zeros(d_model, np.float32), "b2"),
        numpy_helper.from_array(np.array(1.0 / np.sqrt(d_model), np.float32), "scale"),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "wq"], ["q"]),
        helper.make_node("MatMul", ["x", "wk"], ["k"]),
        helper.make_node("MatMul", ["x", "wv"], ["v"]),
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["s0"]),
        helper.make_node("Mul", ["s0", "scale"], ["s"]),
        helper.make_node("Softmax", ["s"], ["attn"], axis=-1),
        helper.make_node("MatMul", ["attn", "v"], ["ctx"]),
        helper.make_node("MatMul", ["ctx", "wo"], ["o"]),
        helper.make_node("Add", ["x", "o"], ["r1"]),
        helper.make_node("LayerNormalization", ["r1", "g1", "b1"], ["n1"], axis=-1),
        helper.make_node("MatMul", ["n1", "w1"], ["f1"]),
        helper.make_node("Relu", ["f1"], ["f2"]),
        helper.make_node("MatMul", ["f2", "w2"], ["f3"]),
        helper.make_node("Add", ["n1", "f3"], ["r2"]),
        helper.make_node("LayerNormalization", ["r2", "g2", "b2"], ["y"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "encoder",
        [tensor("x", TensorProto.FLOAT, ["batch", "seq", d_model])],
        [tensor("y", TensorProto.FLOAT, ["batch", "seq", d_model])],
        inits,
    )
    return _model(graph)


def matmul_chain(nodes: int, size: int = 256, seed: int = 0) -> bytes:
    """``nodes`` MatMuls in a row (x @ w, again and again): a run that takes long, in many steps,
    so that a cancellation lands between two of them."""
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array((np.eye(size) + rng.standard_normal((size, size)) * 1e-3).astype(np.float32), "w")
    chain = [helper.make_node("MatMul", ["x" if i == 0 else f"h{i - 1}", "w"], [f"h{i}"]) for i in range(nodes)]
    chain.append(helper.make_node("Identity", [f"h{nodes - 1}"], ["y"]))
    graph = helper.make_graph(
        chain,
        "chain",
        [tensor("x", TensorProto.FLOAT, [size, size])],
        [tensor("y", TensorProto.FLOAT, [size, size])],
        [w],
    )
    return _model(graph)


def symbolic_pair() -> bytes:
    """Two inputs sharing the symbolic dim 'batch' (ids: int64[batch, seq], mask: int64[batch, seq]),
    one output over both."""
    graph = helper.make_graph(
        [helper.make_node("Mul", ["ids", "mask"], ["masked"])],
        "pair",
        [tensor("ids", TensorProto.INT64, ["batch", "seq"]), tensor("mask", TensorProto.INT64, ["batch", "seq"])],
        [tensor("masked", TensorProto.INT64, ["batch", "seq"])],
    )
    return _model(graph)


def sequence_model() -> bytes:
    """seq: sequence<tensor(float32)> in; its length, its first element, and a new sequence out."""
    nodes = [
        helper.make_node("SequenceLength", ["seq"], ["length"]),
        helper.make_node("SequenceAt", ["seq", "zero"], ["first"]),
        helper.make_node("SequenceConstruct", ["first", "first"], ["twice"]),
    ]
    seq_type = helper.make_tensor_sequence_value_info("seq", TensorProto.FLOAT, [None])
    graph = helper.make_graph(
        nodes,
        "seq",
        [seq_type],
        [
            tensor("length", TensorProto.INT64, []),
            tensor("first", TensorProto.FLOAT, [None]),
            helper.make_tensor_sequence_value_info("twice", TensorProto.FLOAT, [None]),
        ],
        [numpy_helper.from_array(np.array(0, np.int64), "zero")],
    )
    return _model(graph)


def sequence_length(elem: int = TensorProto.FLOAT) -> bytes:
    """seq: sequence<tensor(elem)> in; its length and the sequence itself out."""
    nodes = [helper.make_node("SequenceLength", ["seq"], ["length"]), helper.make_node("Identity", ["seq"], ["same"])]
    graph = helper.make_graph(
        nodes,
        "seqlen",
        [helper.make_tensor_sequence_value_info("seq", elem, None)],
        [tensor("length", TensorProto.INT64, []), helper.make_tensor_sequence_value_info("same", elem, None)],
    )
    return _model(graph)


def cast(source: int, target: int, shape: Sequence[Dim] | None = ("n",), opset: int = 21) -> bytes:
    """y = Cast(x) from one element type to another (opset 21 for the 4-bit types)."""
    graph = helper.make_graph(
        [helper.make_node("Cast", ["x"], ["y"], to=target)],
        "cast",
        [tensor("x", source, shape)],
        [tensor("y", target, shape)],
    )
    return _model(graph, opset=opset)


def string_concat() -> bytes:
    """c = a + b for two 0-d strings."""
    graph = helper.make_graph(
        [helper.make_node("StringConcat", ["a", "b"], ["c"])],
        "concat",
        [tensor("a", TensorProto.STRING, []), tensor("b", TensorProto.STRING, [])],
        [tensor("c", TensorProto.STRING, [])],
    )
    return _model(graph, opset=20)


def optional_model() -> bytes:
    """opt: optional<tensor(float32)> in; whether it is present, and it passed through."""
    opt_type = helper.make_tensor_type_proto(TensorProto.FLOAT, ["n"])
    opt_in = helper.make_value_info("opt", helper.make_optional_type_proto(opt_type))
    opt_out = helper.make_value_info("same", helper.make_optional_type_proto(opt_type))
    nodes = [
        helper.make_node("OptionalHasElement", ["opt"], ["present"]),
        helper.make_node("Identity", ["opt"], ["same"]),
    ]
    graph = helper.make_graph(nodes, "optional", [opt_in], [tensor("present", TensorProto.BOOL, []), opt_out])
    return _model(graph, opset=18)


def string_model() -> bytes:
    """text: string[n] in; the same strings and their equality with 'yes' out."""
    nodes = [
        helper.make_node("Identity", ["text"], ["same"]),
        helper.make_node("Equal", ["text", "yes"], ["is_yes"]),
    ]
    graph = helper.make_graph(
        nodes,
        "strings",
        [tensor("text", TensorProto.STRING, ["n"])],
        [tensor("same", TensorProto.STRING, ["n"]), tensor("is_yes", TensorProto.BOOL, ["n"])],
        [numpy_helper.from_array(np.array(["yes"], dtype=object), "yes")],
    )
    return _model(graph, opset=19)  # Equal takes strings from opset 19


ELEMENT_TYPES: dict[str, int] = {
    "float32": TensorProto.FLOAT,
    "float64": TensorProto.DOUBLE,
    "float16": TensorProto.FLOAT16,
    "int8": TensorProto.INT8,
    "int16": TensorProto.INT16,
    "int32": TensorProto.INT32,
    "int64": TensorProto.INT64,
    "uint8": TensorProto.UINT8,
    "uint16": TensorProto.UINT16,
    "uint32": TensorProto.UINT32,
    "uint64": TensorProto.UINT64,
    "bool": TensorProto.BOOL,
}


def _ml_model(graph: onnx.GraphProto) -> bytes:
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", 3)]
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def dict_vectorizer() -> bytes:
    """map<string, float32> in (DictVectorizer over 'a', 'b', 'c'), float32[1, 3] out."""
    node = helper.make_node(
        "DictVectorizer", ["features"], ["vector"], domain="ai.onnx.ml", string_vocabulary=["a", "b", "c"]
    )
    features = helper.make_value_info(
        "features", helper.make_map_type_proto(TensorProto.STRING, helper.make_tensor_type_proto(TensorProto.FLOAT, []))
    )
    graph = helper.make_graph([node], "dictvec", [features], [tensor("vector", TensorProto.FLOAT, [1, 3])])
    return _ml_model(graph)


def zipmap(labels: Sequence[int] = (10, 20, 30)) -> bytes:
    """probs: float32[n, len(labels)] in; ZipMap's sequence<map<int64, float32>> out."""
    node = helper.make_node("ZipMap", ["probs"], ["rows"], domain="ai.onnx.ml", classlabels_int64s=list(labels))
    rows = helper.make_value_info(
        "rows",
        helper.make_sequence_type_proto(
            helper.make_map_type_proto(TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, []))
        ),
    )
    graph = helper.make_graph([node], "zipmap", [tensor("probs", TensorProto.FLOAT, ["n", len(labels)])], [rows])
    return _ml_model(graph)


def huge_model(folder: Path, rows: int, width: int) -> Path:
    """Gather from two float32 tables kept in one external file, together over 2 GiB: the file is
    sparse (zeros but for a marker row), so it costs no disk and no time to write."""
    half = rows * width * 4
    with open(folder / "tables.bin", "wb") as f:
        f.truncate(2 * half)
        f.seek(half + 5 * width * 4)  # row 5 of the second table
        f.write(np.full(width, 7.0, np.float32).tobytes())
    tables = []
    for i, name in enumerate(("a", "b")):
        table = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=[rows, width])
        table.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "tables.bin"), ("offset", str(i * half)), ("length", str(half))):
            entry = table.external_data.add()
            entry.key, entry.value = key, value
        tables.append(table)
    nodes = [
        helper.make_node("Gather", ["a", "i"], ["ra"]),
        helper.make_node("Gather", ["b", "i"], ["rb"]),
        helper.make_node("Add", ["ra", "rb"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "huge",
        [helper.make_tensor_value_info("i", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", width])],
        tables,
    )
    path = folder / "huge.onnx"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    path.write_bytes(model.SerializeToString())
    return path


# --- models for the compat tests: the shapes of the official binding's own test models ---------


def mul_by_weights() -> bytes:
    """Y = X * W for X float[3, 2] and the initializer W = [[1, 2], [3, 4], [5, 6]] (which
    SessionOptions.add_initializer may replace)."""
    weights = numpy_helper.from_array(np.array([[1, 2], [3, 4], [5, 6]], np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("Mul", ["X", "W"], ["Y"])],
        "mul_1",
        [tensor("X", TensorProto.FLOAT, [3, 2])],
        [tensor("Y", TensorProto.FLOAT, [3, 2])],
        [weights],
    )
    return _model(graph)


def matmul_unnamed_batch() -> bytes:
    """Y = X @ [[1], [2]] for X float['None', 2]: a dim whose name is the text 'None'."""
    weights = numpy_helper.from_array(np.array([[1], [2]], np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])],
        "matmul_2",
        [tensor("X", TensorProto.FLOAT, ["None", 2])],
        [tensor("Y", TensorProto.FLOAT, ["None", 1])],
        [weights],
    )
    return _model(graph)


def logical_and() -> bytes:
    """output:0 = input1:0 AND input:0, bool[2, 2], the inputs declared in that order."""
    graph = helper.make_graph(
        [helper.make_node("And", ["input1:0", "input:0"], ["output:0"])],
        "logicaland",
        [tensor("input1:0", TensorProto.BOOL, [2, 2]), tensor("input:0", TensorProto.BOOL, [2, 2])],
        [tensor("output:0", TensorProto.BOOL, [2, 2])],
    )
    return _model(graph)


def identity_string() -> bytes:
    """output:0 = input:0, string[2, 2]."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["input:0"], ["output:0"])],
        "identity_string",
        [tensor("input:0", TensorProto.STRING, [2, 2])],
        [tensor("output:0", TensorProto.STRING, [2, 2])],
    )
    return _model(graph)


def _int64_sequence(name: str) -> onnx.ValueInfoProto:
    return helper.make_value_info(
        name, helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.INT64, None))
    )


def sequence_construct() -> bytes:
    """output_sequence = [tensor1, tensor2], int64[2, 3] each."""
    graph = helper.make_graph(
        [helper.make_node("SequenceConstruct", ["tensor1", "tensor2"], ["output_sequence"])],
        "sequence_construct",
        [tensor("tensor1", TensorProto.INT64, [2, 3]), tensor("tensor2", TensorProto.INT64, [2, 3])],
        [_int64_sequence("output_sequence")],
    )
    return _model(graph)


def sequence_insert() -> bytes:
    """output_sequence = input_seq with tensor (int64[2, 3]) appended."""
    graph = helper.make_graph(
        [helper.make_node("SequenceInsert", ["input_seq", "tensor"], ["output_sequence"])],
        "sequence_insert",
        [_int64_sequence("input_seq"), tensor("tensor", TensorProto.INT64, [2, 3])],
        [_int64_sequence("output_sequence")],
    )
    return _model(graph)


def optional_sequence_identity() -> bytes:
    """y = x for x an optional<sequence<tensor(float32)>>."""
    kind = helper.make_optional_type_proto(
        helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, None))
    )
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "identity_opt",
        [helper.make_value_info("x", kind)],
        [helper.make_value_info("y", kind)],
    )
    return _model(graph, opset=18)


def free_dimensions() -> bytes:
    """y = Abs(x) for x float[Dim1, Dim2, 5] whose first two dims carry the denotations DATA_BATCH
    and DATA_CHANNEL."""
    x = tensor("x", TensorProto.FLOAT, ["Dim1", "Dim2", 5])
    dims = x.type.tensor_type.shape.dim
    dims[0].denotation, dims[1].denotation = "DATA_BATCH", "DATA_CHANNEL"
    graph = helper.make_graph(
        [helper.make_node("Abs", ["x"], ["y"])], "abs_free_dimensions", [x], [tensor("y", TensorProto.FLOAT, None)]
    )
    return _model(graph, check=False)


def passthrough() -> bytes:
    """plus_10 = input_0 + 10, and input_0 itself as a second output, float[1, 2, 2, 2]."""
    shape = [1, 2, 2, 2]
    graph = helper.make_graph(
        [helper.make_node("Add", ["input_0", "ten"], ["plus_10"])],
        "passthrough",
        [tensor("input_0", TensorProto.FLOAT, shape)],
        [tensor("plus_10", TensorProto.FLOAT, shape), tensor("input_0", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(np.array(10, np.float32), "ten")],
    )
    return _model(graph, check=False)


def add_external_weights(file_name: str = "weights_not_on_disk.bin") -> bytes:
    """y = x + w for x float[2], with ``w`` (float[2]) an initializer whose data lives in an external
    file ``file_name`` that is not on disk: a session must be given it."""
    weights = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2])
    weights.data_location = TensorProto.EXTERNAL
    for key, value in (("location", file_name), ("offset", "0"), ("length", "8")):
        entry = weights.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "external_weights",
        [tensor("x", TensorProto.FLOAT, [2])],
        [tensor("y", TensorProto.FLOAT, [2])],
        [weights],
    )
    return _model(graph, check=False)


def constant_only() -> bytes:
    """No inputs; y = [1, 2, 3] (int64)."""
    value = numpy_helper.from_array(np.array([1, 2, 3], np.int64), "value")
    graph = helper.make_graph(
        [helper.make_node("Constant", [], ["y"], value=value)], "constant", [], [tensor("y", TensorProto.INT64, [3])]
    )
    return _model(graph)


def with_metadata() -> bytes:
    """y = x, from a model that fills every metadata field ONNX Runtime reports."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "squeezenet_old",
        [tensor("x", TensorProto.FLOAT, [1])],
        [tensor("y", TensorProto.FLOAT, [1])],
        doc_string="a graph description",
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="onnx-caffe2")
    model.ir_version = 8
    model.domain, model.doc_string, model.model_version = "ai.example", "a description", 7
    helper.set_model_props(model, {"vocabulary": "a b c", "author": "tests"})
    return model.SerializeToString()
