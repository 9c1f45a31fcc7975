"""A detector's findings as Concord shapes, with the model's labels mapped onto the project's
(the annotator and source they are kept under are domain.sources's)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np

from domain.annotation import Annotation, Kind
from domain.sources import MODEL_PREFIX, is_model, model_annotator, model_source
from models.boxes import multiclass_nms
from models.detector import Detection


def suggestion_records(
    detections: Sequence[Detection],
    image_key: str,
    annotator: str,
    source: str,
    label_of: Callable[[str], str | None],
    now: datetime,
) -> tuple[list[Annotation], int]:
    """The detections as shapes of `annotator`, with project labels (label_of: the model's
    label to the project's, None to drop it); and how many were dropped. Ids hash the
    content, so running the same model again on the same image writes nothing new."""
    records: list[Annotation] = []
    dropped = 0
    for found in merged_by_label(detections, label_of):
        label = label_of(found.label)
        if label is None:
            dropped += 1
            continue
        kind: Kind = "rect" if found.box is not None else "polygon"
        coords = tuple(found.box) if found.box is not None else ()
        score = round(found.score, 4)
        content = repr((image_key, annotator, source, label, kind, coords, found.points, score))
        digest = hashlib.blake2b(content.encode(), digest_size=12).hexdigest()
        records.append(
            Annotation(
                id=f"m-{digest}",
                image_key=image_key,
                annotator=annotator,
                label=label,
                kind=kind,
                coords=coords,
                points=found.points,
                created_at=now,
                updated_at=now,
                source=source,
                score=score,
            )
        )
    return records, dropped


def merged_by_label(
    detections: Sequence[Detection], label_of: Callable[[str], str | None]
) -> list[Detection]:
    """The detections less the boxes that another, better-scored box of the same project
    label overlaps by IoU > 0.5: the model's per-class suppression, again after mapping, so
    a 'cat' and a 'dog' box on one animal become one 'animal' suggestion."""
    boxed = [n for n, found in enumerate(detections) if found.box is not None]
    if len(boxed) < 2:
        return list(detections)
    boxes = np.array([detections[n].box for n in boxed], dtype=float)
    scores = np.array([detections[n].score for n in boxed], dtype=float)
    codes: dict[str | None, int] = {}
    groups = np.array([codes.setdefault(label_of(detections[n].label), len(codes)) for n in boxed])
    kept = {boxed[int(i)] for i in multiclass_nms(boxes, scores, groups)}
    return [found for n, found in enumerate(detections) if found.box is None or n in kept]


__all__ = [
    "MODEL_PREFIX",
    "is_model",
    "merged_by_label",
    "model_annotator",
    "model_source",
    "suggestion_records",
]
