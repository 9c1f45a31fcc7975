"""The built-in detector without its real weights: decoding, NMS and scaling run on a tiny
ONNX model built here that answers hand-made score maps and box distributions in NanoDet's
layout; the converter runs on a tiny TF.js graph written here; the messages when
onnxruntime or the weights are missing."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from models import nanodet
from models.boxes import multiclass_nms, nms
from models.detector import Detection, Detector, DetectorError, checked_detections
from models.nanodet import (
    BINS,
    COCO_LABELS,
    STRIDES,
    NanoDet,
    as_rgb,
    available,
    decode,
    load_nanodet,
    preprocess,
)
from models.nanodet_convert import convert, read_tfjs, run_tfjs_numpy

ROOT = Path(__file__).resolve().parents[2]
SIDE = 64  # the tiny model's square input; grids 8x8, 4x4 and 2x2
DOG, CAT = COCO_LABELS.index("dog"), COCO_LABELS.index("cat")


class Maps:
    """Score maps and box distributions for the tiny model, all zero scores to start."""

    def __init__(self, side: int = SIDE) -> None:
        self.side = side
        cells = {s: (side // s) ** 2 for s in STRIDES}
        self.scores = {s: np.zeros((n, len(COCO_LABELS)), np.float32) for s, n in cells.items()}
        self.bins = {s: np.zeros((n, 4 * BINS), np.float32) for s, n in cells.items()}

    def put(
        self,
        stride: int,
        row: int,
        column: int,
        label: int,
        score: float,
        sides: tuple[float, float, float, float],
    ) -> None:
        """An object at one cell: its class score and its sides (left, top, right, bottom)
        in strides; a side k + 0.5 is two equal bins k and k + 1 (the softmax mean)."""
        cell = row * (self.side // stride) + column
        self.scores[stride][cell, label] = score
        logits = np.full((4, BINS), -30.0, np.float32)
        for side, value in enumerate(sides):
            logits[side, int(value)] = 30.0
            if value != int(value):
                logits[side, int(value) + 1] = 30.0
        self.bins[stride][cell] = logits.reshape(-1)

    def model(self, path: Path) -> Path:
        """An ONNX model with NanoDet's input and outputs answering these maps."""
        nodes, initializers, outputs = [], [], []
        for stride in STRIDES:
            for kind, arrays in (("cls", self.scores), ("reg", self.bins)):
                name, array = f"{kind}_{stride}", arrays[stride][None]
                initializers.append(numpy_helper.from_array(array, name + "_value"))
                nodes.append(helper.make_node("Identity", [name + "_value"], [name]))
                outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, array.shape))
        image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, SIDE, SIDE])
        graph = helper.make_graph(nodes, "tiny_nanodet", [image], outputs, initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        path.write_bytes(model.SerializeToString())
        return path


def photo(width: int, height: int) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)


def detect(maps: Maps, tmp_path: Path, image: np.ndarray, min_score: float = 0.3) -> list:
    return NanoDet(maps.model(tmp_path / "tiny.onnx")).detect(image, min_score)


# --- decoding, scaling, NMS through the tiny model ---------------------------------------


def test_a_known_box_comes_back_at_its_place_and_scale_on_a_non_square_image(
    tmp_path: Path,
) -> None:
    maps = Maps()
    # stride 16, row 1, column 2: centre (40, 24); sides 1, 1, 0.5, 2 strides
    maps.put(16, 1, 2, DOG, 0.9, (1, 1, 0.5, 2))
    found = detect(maps, tmp_path, photo(300, 150))
    # in the 64 x 64 input (24, 8, 48, 56); x scaled by 300/64, y by 150/64
    assert len(found) == 1
    assert found[0]["label"] == "dog"
    assert found[0]["score"] == pytest.approx(0.9)
    assert found[0]["box"] == pytest.approx([112.5, 18.75, 225.0, 131.25], abs=0.01)


@pytest.mark.parametrize(
    ("stride", "row", "column", "expected"),
    [
        (8, 2, 5, (36.0, 12.0, 52.0, 28.0)),  # centre (44, 20)
        (16, 3, 0, (0.0, 40.0, 24.0, 64.0)),  # centre (8, 56); clipped to the input
        (32, 0, 1, (16.0, 0.0, 64.0, 48.0)),  # centre (48, 16); clipped to the input
    ],
)
def test_each_stride_has_its_own_grid_of_cell_centres(
    tmp_path: Path, stride: int, row: int, column: int, expected: tuple[float, ...]
) -> None:
    maps = Maps()
    maps.put(stride, row, column, CAT, 0.8, (1, 1, 1, 1))
    found = detect(maps, tmp_path, photo(SIDE, SIDE))
    assert [d["label"] for d in found] == ["cat"]
    assert found[0]["box"] == pytest.approx(list(expected), abs=0.01)


def test_overlapping_boxes_of_one_class_collapse_but_not_of_different_classes(
    tmp_path: Path,
) -> None:
    maps = Maps()
    # neighbouring stride-8 cells, each with a 4 x 4-stride box: IoU 0.6 between them
    maps.put(8, 3, 3, DOG, 0.9, (2, 2, 2, 2))
    maps.put(8, 3, 4, DOG, 0.7, (2, 2, 2, 2))
    maps.put(8, 3, 4, CAT, 0.6, (2, 2, 2, 2))
    found = detect(maps, tmp_path, photo(128, 96))
    assert [(d["label"], d["score"]) for d in found] == [("dog", 0.9), ("cat", 0.6)]


def test_boxes_apart_are_all_kept_best_first(tmp_path: Path) -> None:
    maps = Maps()
    maps.put(8, 1, 1, DOG, 0.5, (1, 1, 1, 1))
    maps.put(8, 6, 6, DOG, 0.8, (1, 1, 1, 1))
    assert [d["score"] for d in detect(maps, tmp_path, photo(SIDE, SIDE))] == [0.8, 0.5]


@pytest.mark.parametrize(("min_score", "count"), [(0.3, 2), (0.5, 1), (0.95, 0)])
def test_min_score_drops_what_scores_less(tmp_path: Path, min_score: float, count: int) -> None:
    maps = Maps()
    maps.put(8, 1, 1, DOG, 0.9, (1, 1, 1, 1))
    maps.put(32, 1, 1, CAT, 0.4, (1, 1, 1, 1))
    found = detect(maps, tmp_path, photo(200, 100), min_score)
    assert len(found) == count
    assert all(d["score"] >= min_score for d in found)


def test_the_answer_passes_the_detector_check(tmp_path: Path) -> None:
    maps = Maps()
    maps.put(16, 1, 2, DOG, 0.9, (1, 1, 0.5, 2))
    maps.put(32, 1, 1, CAT, 0.4, (3, 3, 3, 3))  # reaches past the input: clipped
    detector = NanoDet(maps.model(tmp_path / "tiny.onnx"))
    assert isinstance(detector, Detector)
    image = photo(300, 150)
    found = detector.detect(image, 0.3)
    checked = checked_detections(found, 300, 150)
    assert checked == [
        Detection("dog", 0.9, (112.5, 18.75, 225.0, 131.25)),
        Detection("cat", 0.4, (0.0, 0.0, 300.0, 150.0)),
    ]


def test_empty_maps_answer_nothing(tmp_path: Path) -> None:
    assert detect(Maps(), tmp_path, photo(50, 40), 0.0001) == []


def test_grey_and_rgba_images_are_accepted_and_other_arrays_refused(tmp_path: Path) -> None:
    maps = Maps()
    maps.put(16, 1, 1, DOG, 0.9, (1, 1, 1, 1))
    detector = NanoDet(maps.model(tmp_path / "tiny.onnx"))
    rgba = np.zeros((32, 64, 4), np.uint8)
    assert len(detector.detect(np.zeros((32, 64), np.uint8), 0.5)) == 1
    assert detector.detect(rgba, 0.5) == detector.detect(rgba[:, :, :3], 0.5)
    with pytest.raises(DetectorError, match="uint8"):
        detector.detect(np.zeros((32, 64, 3), np.float32), 0.5)
    with pytest.raises(DetectorError, match=r"\(H, W, 3\)"):
        detector.detect(np.zeros((32, 64, 2), np.uint8), 0.5)


def test_the_session_is_made_on_first_use_once_and_shared_by_threads(tmp_path: Path) -> None:
    maps = Maps()
    maps.put(8, 2, 2, DOG, 0.9, (1, 1, 1, 1))
    detector = NanoDet(maps.model(tmp_path / "tiny.onnx"))
    assert detector._session is None
    made = []
    real = onnxruntime.InferenceSession
    lock = threading.Lock()

    def counting(*args: object, **kwargs: object) -> object:
        with lock:
            made.append(1)
        return real(*args, **kwargs)

    image = photo(120, 80)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(onnxruntime, "InferenceSession", counting)
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: detector.detect(image, 0.5), range(8)))
    assert len(made) == 1
    assert all(answer == answers[0] for answer in answers) and len(answers[0]) == 1


def test_name_version_and_labels(tmp_path: Path) -> None:
    path = Maps().model(tmp_path / "tiny.onnx")
    detector = NanoDet(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert detector.name == "nanodet"
    assert detector.version == f"g-416-{digest[:8]}" == NanoDet(path).version
    assert len(detector.labels) == 80 and len(set(detector.labels)) == 80
    assert [detector.labels[i] for i in (0, 2, 3, 15, 16, 41, 79)] == [
        "person",
        "car",
        "motorcycle",
        "cat",
        "dog",
        "cup",
        "toothbrush",
    ]


def test_a_file_that_is_no_model_is_a_detector_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(DetectorError, match="cannot load"):
        NanoDet(path).detect(photo(10, 10), 0.5)


# --- the pure functions ------------------------------------------------------------------


def test_preprocess_stretches_to_bgr_normalised_nchw() -> None:
    red = np.zeros((30, 50, 3), np.uint8)
    red[:, :, 0] = 255
    tensor = preprocess(red, (64, 32))
    assert tensor.shape == (1, 3, 32, 64) and tensor.dtype == np.float32
    assert np.allclose(tensor[0, 0], (0 - 103.53) / 57.375)  # blue first
    assert np.allclose(tensor[0, 1], (0 - 116.28) / 57.12)
    assert np.allclose(tensor[0, 2], (255 - 123.675) / 58.395)


def test_decode_averages_the_bins_by_their_softmax() -> None:
    # one stride of 100 px over 2000 x 1000: 20 columns; cell 210 is row 10, column 10
    scores = np.zeros((211, 80), np.float32)
    scores[210, 5] = 0.7
    logits = np.zeros((211, 4 * BINS), np.float32)  # uniform: the mean bin is 5
    logits[210, BINS : 2 * BINS] = np.log(np.arange(1, BINS + 1))  # top: weights 1..11
    boxes, best, classes = decode([scores], [logits], (2000, 1100), 0.5, strides=[100])
    top = (385 + 55) / 66  # sum of k (k + 1) over sum of (k + 1), k = 0..10
    assert classes.tolist() == [5] and best.tolist() == pytest.approx([0.7])
    assert boxes[0] == pytest.approx([1050 - 500, 1050 - top * 100, 1050 + 500, 1100])


def test_nms_keeps_the_best_of_boxes_overlapping_more_than_the_threshold() -> None:
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 8], [0, 0, 10, 4], [20, 20, 30, 30]], float)
    scores = np.array([0.6, 0.9, 0.5, 0.1])
    # IoU(1, 0) = 0.8 > 0.5: 0 goes; IoU(1, 2) = 0.5, not more: 2 stays
    assert nms(boxes, scores, 0.5).tolist() == [1, 2, 3]
    assert multiclass_nms(boxes, scores, np.array([0, 1, 1, 1]), 0.5).tolist() == [1, 0, 2, 3]
    assert nms(np.zeros((0, 4)), np.zeros(0)).tolist() == []
    assert multiclass_nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int)).tolist() == []


def test_as_rgb_refuses_what_is_not_an_image() -> None:
    assert as_rgb(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)
    with pytest.raises(DetectorError):
        as_rgb(np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(DetectorError):
        as_rgb(np.zeros((4, 5, 3, 1), np.uint8))


# --- what the app says when the detector cannot run --------------------------------------


def test_missing_weights_are_named_with_their_path(tmp_path: Path) -> None:
    missing = tmp_path / "weights" / "nanodet-g-416.onnx"
    ok, reason = available(missing)
    assert not ok
    assert f"NanoDet weights file missing at {missing}" in reason
    with pytest.raises(DetectorError, match="weights file missing at") as caught:
        load_nanodet(missing)
    assert str(missing) in str(caught.value)


def test_missing_onnxruntime_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    path = Maps().model(tmp_path / "tiny.onnx")
    ok, reason = available(path)
    assert not ok and "pip install onnxruntime==" in reason
    with pytest.raises(DetectorError, match=r"pip install onnxruntime==\d"):
        load_nanodet(path)


def test_an_existing_model_is_available(tmp_path: Path) -> None:
    path = Maps().model(tmp_path / "tiny.onnx")
    assert available(path)[0]
    assert isinstance(load_nanodet(path), NanoDet)


def test_the_onnxruntime_it_asks_for_is_the_pinned_one() -> None:
    pins = (ROOT / "requirements.txt").read_text().split()
    assert nanodet.ONNXRUNTIME_REQUIREMENT in pins
    assert nanodet.ONNXRUNTIME_REQUIREMENT == f"onnxruntime=={onnxruntime.__version__}"


# --- the converter on a tiny TF.js graph -------------------------------------------------


def _tfjs_model(folder: Path) -> Path:
    """A TF.js graph model in onnx-tf's style (NCHW between layers, NHWC transposes around
    each Conv2D/MaxPool/Resize) with every op NanoDet's graph uses."""
    rng = np.random.default_rng(3)
    nodes: list[dict] = []
    specs: list[dict] = []
    blobs: list[bytes] = []

    def const(name: str, value: np.ndarray) -> str:
        if value.dtype.kind == "f":
            specs.append(
                {
                    "name": name,
                    "shape": list(value.shape),
                    "dtype": "float32",
                    "quantization": {"dtype": "float16", "original_dtype": "float32"},
                }
            )
            blobs.append(value.astype(np.float16).tobytes())
        else:
            specs.append({"name": name, "shape": list(value.shape), "dtype": "int32"})
            blobs.append(value.astype(np.int32).tobytes())
        nodes.append({"name": name, "op": "Const", "attr": {}})
        return name

    def node(name: str, op: str, inputs: list[str], **attr: dict) -> str:
        nodes.append({"name": name, "op": op, "input": inputs, "attr": attr})
        return name

    def text(value: str) -> dict:
        return {"s": base64.b64encode(value.encode()).decode()}

    def ints(*values: int) -> dict:
        return {"list": {"i": [str(v) for v in values]}}

    nhwc, nchw = const("to_nhwc", np.array([0, 2, 3, 1])), const("to_nchw", np.array([0, 3, 1, 2]))
    spatial = const("pads", np.array([[0, 0], [0, 0], [1, 1], [1, 1]]))
    dims = [{"size": str(v)} for v in (1, 3, 8, 8)]
    node("input_1", "Placeholder", [], shape={"shape": {"dim": dims}})
    conv_attr = {
        "strides": ints(1, 1, 1, 1),
        "padding": text("VALID"),
        "data_format": text("NHWC"),
        "dilations": ints(1, 1, 1, 1),
    }
    node("pad", "Pad", ["input_1", spatial])
    node("t1", "Transpose", ["pad", nhwc])
    filters = const("filters", rng.normal(size=(3, 3, 3, 4)).astype(np.float32))
    node("conv", "Conv2D", ["t1", filters], **conv_attr)
    node("bias", "Add", ["conv", const("b", rng.normal(size=4).astype(np.float32))])
    node("t2", "Transpose", ["bias", nchw])
    node("a", "LeakyRelu", ["t2"], alpha={"f": 0.1})
    minus_inf = const("minus_inf", np.array(-np.inf, np.float32))
    node("padv2", "PadV2", ["a", spatial, minus_inf])
    node("t3", "Transpose", ["padv2", nhwc])
    pool_attr = {"ksize": ints(1, 3, 3, 1), "strides": ints(1, 2, 2, 1)}
    node("pool", "MaxPool", ["t3"], padding=text("VALID"), data_format=text("NHWC"), **pool_attr)
    resize_attr = {"half_pixel_centers": {"b": True}, "align_corners": {"b": False}}
    node("up", "ResizeBilinear", ["pool", const("size", np.array([8, 8]))], **resize_attr)
    node("t4", "Transpose", ["up", nchw])
    node("cat", "ConcatV2", ["a", "t4", const("axis", np.array(1))])
    node("split", "SplitV", ["cat", const("sizes", np.array([5, 3])), const("dim", np.array(1))])
    node("sig", "Sigmoid", ["split"])
    zeros = node(
        "zeros",
        "SparseToDense",
        [
            const("where", np.zeros((0, 1), np.int32)),
            const("length", np.array([3])),
            const("gather", np.zeros(0, np.int32)),
            const("zero", np.array(0)),
        ],
    )
    shape = node("shape", "AddV2", [const("shape_base", np.array([1, 5, -1])), zeros])
    node("r1", "Reshape", ["sig", shape])
    node("Identity", "Identity", [node("o1", "Transpose", ["r1", const("p", np.array([0, 2, 1]))])])
    node("r2", "Reshape", ["split:1", const("shape2", np.array([1, 3, -1]))])
    node("Identity_1", "Identity", [node("o2", "Transpose", ["r2", "p"])])
    manifest = [{"paths": ["tiny.bin"], "weights": specs}]
    document = {"format": "graph-model", "modelTopology": {"node": nodes}}
    document["weightsManifest"] = manifest
    (folder / "tiny.bin").write_bytes(b"".join(blobs))
    (folder / "tiny.json").write_text(json.dumps(document))
    return folder / "tiny.json"


def test_the_converter_matches_tf_semantics_and_folds_layout_changes(tmp_path: Path) -> None:
    document, weights = read_tfjs(_tfjs_model(tmp_path))
    outputs = {"Identity": "scores", "Identity_1": "rest"}
    model = convert(document, weights, outputs)
    onnx.checker.check_model(model, full_check=True)
    ops = sorted({n.op_type for n in model.graph.node})
    # Pad/PadV2 went into Conv/MaxPool, the bias into Conv, NHWC transposes vanished
    assert ops == ["Cast", "Concat", "Conv", "Identity", "LeakyRelu", "MaxPool", "Reshape"] + [
        "Resize",
        "Sigmoid",
        "Split",
        "Transpose",
    ]
    assert [len(n.input) for n in model.graph.node if n.op_type == "Conv"] == [3]
    assert sum(n.op_type == "Transpose" for n in model.graph.node) == 2  # the [0, 2, 1] ones
    image = np.random.default_rng(4).normal(size=(1, 3, 8, 8)).astype(np.float32)
    session = onnxruntime.InferenceSession(model.SerializeToString())
    got = dict(zip(["scores", "rest"], session.run(["scores", "rest"], {"image": image})))
    expected = run_tfjs_numpy(document, weights, image, outputs)
    assert got["scores"].shape == (1, 64, 5) and got["rest"].shape == (1, 64, 3)
    for name in outputs.values():
        assert np.allclose(got[name], expected[name], atol=1e-4), name


def test_a_model_without_nanodets_outputs_is_a_detector_error(tmp_path: Path) -> None:
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, SIDE, SIDE])
    out = helper.make_tensor_value_info("other", TensorProto.FLOAT, [1, 3, SIDE, SIDE])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["image"], ["other"])], "g", [image], [out]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    (tmp_path / "other.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(DetectorError, match="no output cls_8"):
        NanoDet(tmp_path / "other.onnx").detect(photo(20, 20), 0.5)
