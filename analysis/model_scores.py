"""A detector measured like an annotator: its shapes against the consensus of the people.

Method, for a model M (annotator model:<name>) at IoU threshold t: the reference is the
consensus of every person who finished the image (analysis.consensus: median boxes and
majority labels of the objects at least half of them drew), over the images both M and at
least one person finished; an image people finished with nothing on it has an empty
reference, so M's shapes there are false positives. On each image M's shapes are matched
one-to-one to the reference, count-first at IoU >= t (analysis.matching), labels ignored.
With M_n matched pairs, N_M shapes of the model and N_C consensus objects:

    precision = M_n / N_M,   recall = M_n / N_C,   F1 = 2 M_n / (N_M + N_C)

(nan where the denominator is 0, except F1, which is 1 when neither the model nor the
people drew anything, as between two people: analysis.pairwise); label kappa is Cohen's
kappa of consensus label vs model label over the matched pairs; log_area_ratio, dx and dy
are the medians of analysis.bias's box offsets of the matched pairs (the model's box
against the consensus box). Per label L,
a match counts for L when both labels are L: precision_L = those / model shapes labelled L,
recall_L = those / consensus objects labelled L. People's alpha and pairwise tables never
include models; this is the only place a model is compared.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median

from analysis.bias import offsets_of
from analysis.consensus import ConsensusObject, consensus_of
from analysis.matching import match_objects
from analysis.pairwise import f1_score
from analysis.reliability import cohen_kappa
from analysis.work import Work
from domain.annotation import Annotation
from domain.geometry import bounding_box
from domain.sources import is_model, is_unchanged_suggestion


@dataclass(frozen=True)
class LabelScore:
    """One label's precision and recall for a model (counts behind them included)."""

    label: str
    model_objects: int  # the model's shapes with this label
    consensus_objects: int  # consensus objects with this label
    matched: int  # matched pairs where both say this label
    precision: float
    recall: float


@dataclass(frozen=True)
class ModelScore:
    """One model against the people's consensus (module doc)."""

    annotator: str  # model:<name>
    version: str  # the version its stored shapes carry ("" when unknown; "mixed" if several)
    images: int
    model_objects: int
    consensus_objects: int
    matched: int
    precision: float
    recall: float
    f1: float
    label_kappa: float
    log_area_ratio: float
    dx: float
    dy: float
    per_label: tuple[LabelScore, ...]

    @property
    def name(self) -> str:
        """The detector's name (the annotator without model:)."""
        return self.annotator.split(":", 1)[1] if ":" in self.annotator else self.annotator


Models = Mapping[str, Mapping[str, Sequence[Annotation]]]  # model:<name> -> image -> shapes


def split_models(work: Work) -> tuple[Work, dict[str, dict[str, Sequence[Annotation]]]]:
    """The people's work, and each model's shapes by image (model:<name> annotators)."""
    people = {
        key: {who: shapes for who, shapes in done.items() if not is_model(who)}
        for key, done in work.by_image.items()
    }
    models: dict[str, dict[str, Sequence[Annotation]]] = {}
    for key, done in work.by_image.items():
        for who, shapes in done.items():
            if is_model(who):
                models.setdefault(who, {})[key] = shapes
    seconds = {pair: spent for pair, spent in work.seconds.items() if not is_model(pair[1])}
    kept = {key: done for key, done in people.items() if done}
    return Work(kept, seconds, work.left_out), models


def without_suggestions(work: Work) -> tuple[Work, int]:
    """The work less the shapes people accepted unchanged from a detector's suggestion
    (they anchor everyone to the same boxes and inflate agreement), and how many those were.
    An image stays finished for whoever accepted its suggestions."""
    kept: dict[str, dict[str, tuple[Annotation, ...]]] = {}
    left_out = 0
    for key, done in work.by_image.items():
        kept[key] = {}
        for who, shapes in done.items():
            mine = tuple(s for s in shapes if not is_unchanged_suggestion(s.source))
            left_out += len(shapes) - len(mine)
            kept[key][who] = mine
    return Work(kept, work.seconds, work.left_out), left_out


def accepted_suggestions(work: Work) -> int:
    """How many of the people's shapes were accepted unchanged from a suggestion."""
    return without_suggestions(work)[1]


def model_scores(
    people: Work,
    models: Models,
    threshold: float = 0.5,
    reference: Mapping[str, Sequence[ConsensusObject]] | None = None,
) -> tuple[ModelScore, ...]:
    """Each model (annotator -> image -> its shapes) against the people's consensus;
    reference, when given, must be consensus_of(people, threshold)."""
    agreed = consensus_of(people, threshold) if reference is None else reference
    return tuple(
        _score(annotator, by_image, agreed, threshold)
        for annotator, by_image in sorted(models.items())
    )


def _score(
    annotator: str,
    by_image: Mapping[str, Sequence[Annotation]],
    agreed: Mapping[str, Sequence[ConsensusObject]],
    threshold: float,
) -> ModelScore:
    images = drawn = truths = 0
    pairs: list[tuple[Annotation, ConsensusObject]] = []
    drawn_by_label: Counter[str] = Counter()
    truth_by_label: Counter[str] = Counter()
    versions = {
        shape.source.split("@", 1)[1]
        for s in by_image.values()
        for shape in s
        if "@" in shape.source
    }
    for image, shapes in sorted(by_image.items()):
        if image not in agreed:
            continue  # no person finished it: nothing to compare with
        reference = agreed[image]
        images += 1
        drawn += len(shapes)
        truths += len(reference)
        drawn_by_label.update(shape.label for shape in shapes)
        truth_by_label.update(item.label for item in reference)
        found = match_objects(shapes, [item.as_annotation() for item in reference], threshold)
        pairs.extend((shapes[m.a], reference[m.b]) for m in found)
    matched = len(pairs)
    offsets = (
        offsets_of([bounding_box(shape) for shape, _ in pairs], [item.box for _, item in pairs])
        if pairs
        else {}
    )
    same = Counter(shape.label for shape, item in pairs if shape.label == item.label)
    per_label = tuple(
        LabelScore(
            label,
            drawn_by_label[label],
            truth_by_label[label],
            same[label],
            _share(same[label], drawn_by_label[label]),
            _share(same[label], truth_by_label[label]),
        )
        for label in sorted(set(drawn_by_label) | set(truth_by_label))
    )
    return ModelScore(
        annotator=annotator,
        version=versions.pop() if len(versions) == 1 else ("mixed" if versions else ""),
        images=images,
        model_objects=drawn,
        consensus_objects=truths,
        matched=matched,
        precision=_share(matched, drawn),
        recall=_share(matched, truths),
        f1=f1_score(matched, drawn, truths) if images else math.nan,
        label_kappa=cohen_kappa([item.label for _, item in pairs], [s.label for s, _ in pairs]),
        log_area_ratio=_median(offsets.get("log_area_ratio", ())),
        dx=_median(offsets.get("dx", ())),
        dy=_median(offsets.get("dy", ())),
        per_label=per_label,
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else math.nan


def _median(values: Sequence[float]) -> float:
    return float(median(values)) if values else math.nan
