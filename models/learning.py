"""Learning from corrections: a label head and per-label score thresholds fitted on the
detector's boxes and people's finished shapes on the same images (workflows.training
gathers them; this module only does the arithmetic).

Examples. On each image, the people's objects (their consensus: analysis.consensus) are the
truth; each detector box is matched one-to-one to a truth object by IoU >= 0.5
(analysis.matching). A matched box is an example of (the box's crop and mapped label -> the
true label); a box matching nothing is a false positive; every truth object is also an example
of (its own crop, no model label -> its label), as a box a person draws.

Split. Images (never single boxes: boxes of one image look alike) are shuffled with a fixed
seed and dealt into up to FOLDS folds; fold 0, about 20 % of the images, is held out (the
next fold when none of fold 0's images has an object). On its
truth objects, accuracy "before" is the untrained mapping: the label the matched detector box
carries, or for an object no box matched, the most frequent label of the training images;
"after" is the head fitted on the other folds (a matched object through its detector box,
as `predict` would relabel it; an unmatched one through its own box, as for a drawn box).

Head. StandardScaler + LogisticRegression (lbfgs, multinomial, C = C_REGULARISATION) on
models.features and a one-hot of the mapped label; the saved head is fitted on every image.

Thresholds. Every detector box gets the label a head fitted without its image's fold gives it
(out-of-fold, so the thresholds are not fitted on the head's own training answers); it is
correct when it matches a truth object of that label. Per label, the threshold is the lowest
score whose precision (correct boxes among those of the label scoring at least it) reaches
the target, reported with that precision and the recall at it (correct boxes over the truth
objects of that label); None when no score reaches the target.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.features import SIZE
from models.head import one_hot

FOLDS = 5  # fold 0 (a fifth of the images) is the held-out part
SEED = 0
C_REGULARISATION = 1.0
MAX_ITERATIONS = 2000
MIN_OBJECTS = 20
MIN_LABELS = 2
DEFAULT_PRECISION = 0.9


class TrainingError(Exception):
    """Too little data to learn from, said in one line."""


@dataclass(frozen=True, eq=False)
class ImageExamples:
    """One image's truth objects and detector boxes, with their features (rows of
    models.features) and the one-to-one matches (detector box index, truth index)."""

    image: str
    truth_labels: tuple[str, ...]
    truth_features: np.ndarray
    model_labels: tuple[str, ...]
    model_scores: tuple[float, ...]
    model_features: np.ndarray
    matches: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Threshold:
    """A label's score threshold (None: the target precision is out of reach) with the
    precision and recall at it, and how many detector boxes had the label."""

    threshold: float | None
    precision: float | None
    recall: float | None
    boxes: int
    objects: int  # truth objects of the label

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "threshold": self.threshold,
            "precision": self.precision,
            "recall": self.recall,
            "boxes": self.boxes,
            "objects": self.objects,
        }


@dataclass(frozen=True, eq=False)
class Fitted:
    """A trained head's arrays and classes, its held-out figures and thresholds."""

    classes: tuple[str, ...]
    inputs: tuple[str, ...]
    arrays: Mapping[str, np.ndarray]
    images: int
    objects: int  # truth objects (people's)
    boxes: int  # detector boxes
    matched: int  # detector boxes matching a truth object
    held_out_images: int
    held_out_objects: int
    before: float
    after: float
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)


def check_enough(examples: Sequence[ImageExamples]) -> None:
    """TrainingError saying what is missing when there is too little to learn from."""
    labels = Counter(label for found in examples for label in found.truth_labels)
    objects = sum(labels.values())
    boxes = sum(len(found.model_labels) for found in examples)
    if not examples or boxes == 0:
        raise TrainingError(
            "no detector boxes on images people finished: run `python cli.py predict` on "
            "images people have annotated first"
        )
    if objects < MIN_OBJECTS or len(labels) < MIN_LABELS or len(examples) < 2:
        raise TrainingError(
            f"too little to learn from: {objects} object(s) of {len(labels)} label(s) on "
            f"{len(examples)} image(s) people finished; needs {MIN_OBJECTS}+ objects, "
            f"{MIN_LABELS}+ labels, 2+ images"
        )


def folds_of(images: Sequence[str], seed: int = SEED, folds: int = FOLDS) -> np.ndarray:
    """Each image's fold (0..k-1, k = min(folds, images)), the images shuffled with seed:
    fold 0 is the held-out part. Depends only on the set of image keys and the seed."""
    order = sorted(images)
    k = max(1, min(folds, len(order)))
    position = np.random.default_rng(seed).permutation(len(order))
    fold_of_key = {order[int(p)]: n % k for n, p in enumerate(position)}
    return np.array([fold_of_key[key] for key in images], np.int64)


def fit(
    examples: Sequence[ImageExamples],
    inputs: Sequence[str],
    precision: float = DEFAULT_PRECISION,
    seed: int = SEED,
) -> Fitted:
    """The head, its held-out accuracy before and after and the thresholds (module doc);
    TrainingError when there is too little to learn from."""
    if not 0 < precision <= 1:
        raise TrainingError(f"the target precision {precision} is outside (0, 1]")
    check_enough(examples)
    inputs = tuple(inputs)
    table = _Table(examples, inputs, folds_of([found.image for found in examples], seed))
    train = table.fold != table.held
    if len(set(table.truth_y[train[table.truth_image]])) < 2:
        raise TrainingError(
            "too little to learn from: the images outside the held-out fifth show only one "
            "label; annotate more images with other labels"
        )
    before, after = table.held_out_accuracy(_fit(*table.training(train)))
    predicted = table.out_of_fold_labels()
    final = _fit(*table.training(np.ones_like(train)))
    arrays, classes = final.arrays(len(inputs))
    return Fitted(
        classes=classes,
        inputs=inputs,
        arrays=arrays,
        images=len(examples),
        objects=len(table.truth_y),
        boxes=len(table.model_y),
        matched=int(sum(len(found.matches) for found in examples)),
        held_out_images=int((table.fold == table.held).sum()),
        held_out_objects=int((table.fold[table.truth_image] == table.held).sum()),
        before=before,
        after=after,
        thresholds=thresholds_for(table, predicted, precision),
    )


def fit_threshold(
    scores: Sequence[float], correct: Sequence[bool], objects: int, precision: float
) -> Threshold:
    """The lowest score threshold at which the boxes scoring at least it reach the target
    precision, with the precision and recall (correct boxes over `objects`) there."""
    score = np.asarray(scores, np.float64)
    right = np.asarray(correct, bool)
    if score.size == 0:
        return Threshold(None, None, None, 0, objects)
    levels = np.unique(score)[::-1]  # best first: a threshold keeps every score >= it
    kept = np.searchsorted(-np.sort(score)[::-1], -levels, side="right")
    ordered = right[np.argsort(-score, kind="stable")]
    hits = np.concatenate([[0], np.cumsum(ordered)])[kept]
    reached = hits / kept >= precision - 1e-12
    if not reached.any():
        return Threshold(None, None, None, int(score.size), objects)
    last = int(np.flatnonzero(reached)[-1])
    recall = float(hits[last] / objects) if objects else None
    return Threshold(
        float(levels[last]), float(hits[last] / kept[last]), recall, int(score.size), objects
    )


def thresholds_for(table: _Table, predicted: np.ndarray, precision: float) -> dict[str, Threshold]:
    """Each label's threshold over the detector boxes the out-of-fold head gives it."""
    truth_counts = Counter(table.truth_y.tolist())
    labels = sorted(set(truth_counts) | set(predicted.tolist()))
    correct = predicted == table.model_truth  # model_truth is "" for a false positive
    return {
        label: fit_threshold(
            table.model_score[predicted == label],
            correct[predicted == label],
            truth_counts.get(label, 0),
            precision,
        )
        for label in labels
    }


class _Table:
    """Every example as rows: truth objects (own crop, no model label) and detector boxes
    (their crop and mapped label), with images' folds."""

    def __init__(
        self, examples: Sequence[ImageExamples], inputs: tuple[str, ...], folds: np.ndarray
    ) -> None:
        self.fold = folds
        truth_x, model_x = [], []
        truth_y: list[str] = []
        truth_image: list[int] = []
        truth_model: list[int] = []  # the matched detector box's row, or -1
        model_y: list[str] = []
        model_truth: list[str] = []
        model_score: list[float] = []
        model_image: list[int] = []
        for number, found in enumerate(examples):
            first_box = len(model_y)
            matched = {truth: box for box, truth in found.matches}
            truth_of = {box: found.truth_labels[truth] for box, truth in found.matches}
            truth_x.append(_rows(found.truth_features, len(found.truth_labels)))
            model_x.append(_rows(found.model_features, len(found.model_labels)))
            for index, label in enumerate(found.truth_labels):
                truth_y.append(label)
                truth_image.append(number)
                box = matched.get(index)
                truth_model.append(-1 if box is None else first_box + box)
            for index, label in enumerate(found.model_labels):
                model_y.append(label)
                model_truth.append(truth_of.get(index, ""))
                model_score.append(float(found.model_scores[index]))
                model_image.append(number)
        self.truth_x = np.hstack(
            [np.vstack(truth_x), np.zeros((len(truth_y), len(inputs)), np.float64)]
        )
        self.model_x = np.hstack([np.vstack(model_x), one_hot(model_y, inputs)])
        self.truth_y = np.array(truth_y, dtype=object)
        self.truth_image = np.array(truth_image, np.int64)
        self.truth_model = np.array(truth_model, np.int64)
        self.model_y = np.array(model_y, dtype=object)
        self.model_truth = np.array(model_truth, dtype=object)
        self.model_score = np.array(model_score, np.float64)
        self.model_image = np.array(model_image, np.int64)
        # the held-out fold: 0, unless none of its images has an object (all found empty)
        self.held = int(self.fold[self.truth_image].min())

    def training(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows and labels to fit on, from the images where `images` (by image) is true:
        every truth object's own crop, and every matched detector box with the true label."""
        truths = images[self.truth_image]
        boxes = images[self.model_image] & (self.model_truth != "")
        x = np.vstack([self.truth_x[truths], self.model_x[boxes]])
        y = np.concatenate([self.truth_y[truths], self.model_truth[boxes]])
        return x, y

    def held_out_accuracy(self, head: _Fit) -> tuple[float, float]:
        """(before, after) on the truth objects of the held-out fold (module doc)."""
        held = self.fold[self.truth_image] == self.held
        train_labels = Counter(self.truth_y[~held].tolist())
        majority = min(train_labels, key=lambda label: (-train_labels[label], label))
        box = self.truth_model[held]
        truth = self.truth_y[held]
        before = np.where(box >= 0, self.model_y[np.maximum(box, 0)], majority)
        rows = np.where((box >= 0)[:, None], self.model_x[np.maximum(box, 0)], self.truth_x[held])
        after = head.predict(rows)
        return float(np.mean(before == truth)), float(np.mean(after == truth))

    def out_of_fold_labels(self) -> np.ndarray:
        """Each detector box's label from a head fitted without its image's fold."""
        predicted = np.empty(len(self.model_y), dtype=object)
        for fold in np.unique(self.fold):
            boxes = self.fold[self.model_image] == fold
            if boxes.any():
                predicted[boxes] = _fit(*self.training(self.fold != fold)).predict(
                    self.model_x[boxes]
                )
        return predicted


def _rows(features: np.ndarray, count: int) -> np.ndarray:
    rows = np.asarray(features, np.float64).reshape(count, -1) if count else np.zeros((0, SIZE))
    if rows.shape[1] != SIZE:
        raise ValueError(f"features have {rows.shape[1]} columns, not {SIZE}")
    return rows


class _Fit:
    """A fitted scaler and logistic regression, or a constant when one label was seen."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        self.labels = sorted(set(y.tolist())) or [""]  # nothing to learn from: never right
        self.scaler: Any = None
        self.model: Any = None
        if len(self.labels) > 1:
            self.scaler = StandardScaler().fit(x)
            self.model = LogisticRegression(
                C=C_REGULARISATION, max_iter=MAX_ITERATIONS, random_state=SEED
            ).fit(self.scaler.transform(x), y.astype(str))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Labels for rows."""
        if self.model is None:
            return np.full(len(x), self.labels[0], dtype=object)
        return np.asarray(self.model.predict(self.scaler.transform(x)), dtype=object)

    def arrays(self, inputs: int) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
        """What models.head.Head needs: mean, scale (zero spreads as 1), coef, intercept."""
        assert self.model is not None  # fitted on 2+ labels (check_enough)
        scale = np.where(self.scaler.scale_ > 0, self.scaler.scale_, 1.0)
        arrays = {
            "mean": np.asarray(self.scaler.mean_, np.float64),
            "scale": np.asarray(scale, np.float64),
            "coef": np.asarray(self.model.coef_, np.float64),
            "intercept": np.asarray(self.model.intercept_, np.float64),
        }
        return arrays, tuple(str(label) for label in self.model.classes_)


def _fit(x: np.ndarray, y: np.ndarray) -> _Fit:
    return _Fit(x, y)
