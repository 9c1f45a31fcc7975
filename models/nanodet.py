"""Concord's built-in detector: NanoDet-g-416 (80 COCO classes) on onnxruntime, offline.

The weights ship in models/weights/ (converted once from TensorFlow.js by
models/nanodet_convert.py; licences and checksums in models/weights/NOTICE). The image is
stretched to the model's square input, turned into normalised BGR, and the model answers,
per stride 8, 16 and 32, sigmoid class scores and a distribution over 11 distance bins for
each box side. decode and nms are plain numpy on those arrays, testable on any model with
the same outputs.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from models.boxes import IOU_THRESHOLD, multiclass_nms
from models.detector import DetectorError
from models.label_map import COCO_CLASSES

WEIGHTS = Path(__file__).resolve().parent / "weights" / "nanodet-g-416.onnx"
# The pin in requirements.txt, said to whoever lacks it.
ONNXRUNTIME_REQUIREMENT = "onnxruntime==1.32.0"
STRIDES = (8, 16, 32)
BINS = 11  # distance bins per box side: 0..10 strides from the cell centre
MAX_CANDIDATES = 1000  # best (cell, class) pairs kept before NMS, as NanoDet does
MAX_DETECTIONS = 100
# NanoDet's training normalisation, in BGR order.
MEAN_BGR = np.array([103.53, 116.28, 123.675], np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], np.float32)
INPUT_NAME = "image"
COCO_LABELS = COCO_CLASSES  # the model's 80 classes, in its output order


def _onnxruntime() -> Any:
    """The onnxruntime module, imported on first use (a web worker that never suggests
    never loads it); DetectorError saying what to install when it is missing."""
    try:
        import onnxruntime
    except ImportError:
        raise DetectorError(
            f"the built-in detector needs onnxruntime: pip install {ONNXRUNTIME_REQUIREMENT} "
            "(it is in requirements.txt), or set DETECTOR=none to switch suggestions off"
        ) from None
    return onnxruntime


def _missing_weights(path: Path) -> str:
    return (
        f"NanoDet weights file missing at {path}: restore models/weights/ from the "
        "repository (or rebuild it with python -m models.nanodet_convert, see "
        "models/weights/NOTICE), or set DETECTOR=none to switch suggestions off"
    )


def available(path: Path = WEIGHTS) -> tuple[bool, str]:
    """Whether the built-in detector can run here, and if not why and how to switch it on."""
    try:
        _onnxruntime()
    except DetectorError as exc:
        return False, str(exc)
    if not Path(path).is_file():
        return False, _missing_weights(Path(path))
    return True, f"NanoDet-g-416 on onnxruntime ({path})"


def load_nanodet(path: Path = WEIGHTS, threads: int = 1) -> NanoDet:
    """The built-in detector; DetectorError saying what to install or restore if it cannot
    run. The model itself is loaded on first use."""
    _onnxruntime()
    if not Path(path).is_file():
        raise DetectorError(_missing_weights(Path(path)))
    return NanoDet(path, threads)


class NanoDet:
    """NanoDet-g-416 as a Detector: name, version (the weights' checksum), COCO labels."""

    name = "nanodet"
    labels: Sequence[str] = COCO_LABELS

    def __init__(self, path: Path = WEIGHTS, threads: int = 1) -> None:
        self.path = Path(path)
        self.threads = threads
        try:
            digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError as exc:
            raise DetectorError(_missing_weights(self.path)) from exc
        self.version = f"g-416-{digest[:8]}"
        self._session: Any = None
        self._lock = threading.Lock()

    def session(self) -> Any:
        """The onnxruntime session, created once (on first use, by one thread)."""
        with self._lock:
            if self._session is None:
                ort = _onnxruntime()
                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                try:
                    self._session = ort.InferenceSession(
                        str(self.path), options, providers=["CPUExecutionProvider"]
                    )
                except Exception as exc:  # onnxruntime raises its own, unexported types
                    raise DetectorError(f"cannot load {self.path}: {exc}") from exc
            return self._session

    def detect(self, image: np.ndarray, min_score: float) -> list[dict[str, Any]]:
        """Objects found with at least min_score, boxes in the image's own pixels."""
        session = self.session()
        shape = session.get_inputs()[0].shape
        if len(shape) != 4 or not all(isinstance(d, int) for d in shape[2:]):
            raise DetectorError(f"the model's input has shape {shape}, not (1, 3, H, W)")
        side_h, side_w = shape[2], shape[3]
        rgb = as_rgb(image)
        names = [output.name for output in session.get_outputs()]
        try:
            arrays = session.run(names, {INPUT_NAME: preprocess(rgb, (side_w, side_h))})
        except Exception as exc:  # onnxruntime's own error types
            raise DetectorError(f"NanoDet failed: {exc}") from exc
        scores, distributions = model_outputs(dict(zip(names, arrays)))
        boxes, best, classes = decode(scores, distributions, (side_w, side_h), min_score)
        keep = multiclass_nms(boxes, best, classes, IOU_THRESHOLD)[:MAX_DETECTIONS]
        height, width = rgb.shape[:2]
        scale = np.array([width / side_w, height / side_h] * 2, np.float64)
        return [
            {
                "label": self.labels[int(classes[i])],
                "score": round(min(max(float(best[i]), 0.0), 1.0), 4),
                "box": [round(float(v), 2) for v in boxes[i] * scale],
            }
            for i in keep
        ]


def as_rgb(image: np.ndarray) -> np.ndarray:
    """The image as uint8 (H, W, 3): grey is repeated, alpha dropped; DetectorError else."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) < 1:
        raise DetectorError(f"expected an RGB image (H, W, 3), got shape {array.shape}")
    if array.dtype != np.uint8:
        raise DetectorError(f"expected uint8 pixels, got {array.dtype}")
    return array[:, :, :3]


def preprocess(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The model's input: the image stretched to size (width, height), BGR, minus NanoDet's
    mean over its std, as float32 NCHW (1, 3, height, width)."""
    stretched = Image.fromarray(np.ascontiguousarray(rgb)).resize(size, Image.Resampling.BILINEAR)
    bgr = np.asarray(stretched, np.float32)[:, :, ::-1]
    return np.ascontiguousarray(((bgr - MEAN_BGR) / STD_BGR).transpose(2, 0, 1)[None])


def decode(
    scores: Sequence[np.ndarray],
    distributions: Sequence[np.ndarray],
    size: tuple[int, int],
    min_score: float,
    strides: Sequence[int] = STRIDES,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate boxes (x0, y0, x1, y1 in input pixels, clipped to size = (width, height)),
    scores and class indices of every (cell, class) scoring at least min_score, best first
    and at most MAX_CANDIDATES. Per stride s: scores (cells, classes) and distributions
    (cells, 4 * BINS), cells row by row over a grid of ceil(width / s) columns; each side
    (left, top, right, bottom) is the softmax-weighted mean bin times s from the cell
    centre ((column + 0.5) * s, (row + 0.5) * s)."""
    width, height = size
    all_boxes, all_scores, all_classes = [], [], []
    for stride, score, distribution in zip(strides, scores, distributions, strict=True):
        columns = -(-width // stride)
        cells, classes = np.nonzero(score >= min_score)
        if cells.size == 0:
            continue
        if cells.size > MAX_CANDIDATES:
            top = np.argpartition(-score[cells, classes], MAX_CANDIDATES)[:MAX_CANDIDATES]
            cells, classes = cells[top], classes[top]
        unique, back = np.unique(cells, return_inverse=True)
        logits = distribution[unique].reshape(-1, 4, BINS).astype(np.float64)
        weights = np.exp(logits - logits.max(axis=2, keepdims=True))
        weights /= weights.sum(axis=2, keepdims=True)
        sides = (weights @ np.arange(BINS, dtype=np.float64)) * stride
        centre_x = (unique % columns + 0.5) * stride
        centre_y = (unique // columns + 0.5) * stride
        boxes = np.stack(
            [
                centre_x - sides[:, 0],
                centre_y - sides[:, 1],
                centre_x + sides[:, 2],
                centre_y + sides[:, 3],
            ],
            axis=1,
        )
        all_boxes.append(boxes[back])
        all_scores.append(score[cells, classes].astype(np.float64))
        all_classes.append(classes)
    if not all_boxes:
        return np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64)
    boxes = np.concatenate(all_boxes)
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, width)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, height)
    best = np.concatenate(all_scores)
    classes = np.concatenate(all_classes).astype(np.int64)
    order = np.argsort(-best, kind="stable")[:MAX_CANDIDATES]
    return boxes[order], best[order], classes[order]


def model_outputs(arrays: Mapping[str, np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Scores and distributions per stride from the model's named outputs (batch of one);
    DetectorError when the model lacks one or its shape is not NanoDet's."""
    scores, distributions = [], []
    for stride in STRIDES:
        names = (f"cls_{stride}", f"reg_{stride}")
        missing = [name for name in names if name not in arrays]
        if missing:
            raise DetectorError(f"the model has no output {missing[0]} (not a NanoDet export?)")
        score, distribution = arrays[names[0]][0], arrays[names[1]][0]
        if score.ndim != 2 or distribution.shape != (score.shape[0], 4 * BINS):
            raise DetectorError(
                f"the model's outputs {names} have shapes {score.shape}, {distribution.shape}"
            )
        scores.append(score)
        distributions.append(distribution)
    return scores, distributions
