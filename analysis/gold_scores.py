"""Each annotator (and each model) against gold: the reviewed annotation of an image.

Method, for an annotator A (a person, or a detector stored as model:<name>) at IoU threshold
t: the images compared are those where both A and gold finished (gold finished: a reviewer
accepted it, or it was imported; an image gold marked empty has no gold object, so A's shapes
there are false positives). On each image A's shapes are matched one-to-one to gold's,
count-first at IoU >= t (analysis.matching, labels ignored), exactly as analysis.model_scores
matches a model to the consensus. Pooled over the images, with M matched pairs, N_A shapes of
A and N_G gold shapes:

    precision = M / N_A,   recall = M / N_G,   F1 = 2 M / (N_A + N_G)

(fractions in [0, 1]; nan where the denominator is 0, except F1, which is 1 when neither A nor
gold drew anything on any compared image, as between two people: analysis.pairwise.f1_score);
mean_iou = the mean IoU of the M matched pairs (fraction in [0, 1]); label_accuracy = matched
pairs where A's label is gold's / M (fraction). Per label L, a matched pair counts for L when
both labels are L: precision_L = those / A's shapes labelled L, recall_L = those / gold shapes
labelled L. Gold itself is never an annotator in alpha, kappa, the pairwise tables, bias or
the consensus (workflows.agreement.load_work leaves it out): this is the only place it is used.

Reference value, by hand, t = 0.5: gold has a rect (0, 0, 10, 10) "cat", a triangle
(20, 0), (30, 0), (20, 10) "dog" and a rect (50, 50, 60, 60) "cat"; A drew a rect (0, 0, 10, 8)
"cat" (IoU 80 / 100 = 0.8 with gold's cat), the square polygon (20, 0)-(30, 10) "cat" (IoU 50 /
100 = 0.5 with the triangle) and a rect (80, 80, 90, 90) "dog" (touches nothing); on a second
image both found nothing. Images 2, M = 2, N_A = N_G = 3: precision = recall = F1 = 2/3,
mean_iou = 0.65, label_accuracy = 1/2; cat: precision 1/2, recall 1/2; dog: 0/1 and 0/1.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analysis.matching import match_objects
from analysis.pairwise import f1_score
from analysis.work import Work
from domain.annotation import Annotation

# image key -> that annotator's (or gold's) shapes there
ByImage = Mapping[str, Sequence[Annotation]]


@dataclass(frozen=True)
class GoldLabelScore:
    """One label's precision and recall against gold (counts behind them included)."""

    label: str
    objects: int  # the annotator's shapes with this label
    gold_objects: int  # gold's shapes with this label
    matched: int  # matched pairs where both say this label
    precision: float
    recall: float


@dataclass(frozen=True)
class GoldScore:
    """One annotator against gold (module doc)."""

    annotator: str
    images: int  # images both the annotator and gold finished
    objects: int
    gold_objects: int
    matched: int
    precision: float
    recall: float
    f1: float
    mean_iou: float
    label_accuracy: float
    per_label: tuple[GoldLabelScore, ...]


def by_annotator(work: Work) -> dict[str, dict[str, Sequence[Annotation]]]:
    """annotator -> image -> shapes, from work grouped by image."""
    found: dict[str, dict[str, Sequence[Annotation]]] = {}
    for key, done in work.by_image.items():
        for who, shapes in done.items():
            found.setdefault(who, {})[key] = shapes
    return found


def gold_scores(
    annotators: Mapping[str, ByImage], gold: ByImage, threshold: float = 0.5
) -> dict[str, GoldScore]:
    """Each annotator's (annotator -> image -> shapes) score against gold (image -> its
    finished shapes); an annotator with no image in common with gold gets images = 0."""
    return {
        who: score_against_gold(who, shapes, gold, threshold)
        for who, shapes in sorted(annotators.items())
    }


def people_and_models_against_gold(
    people: Work, models: Mapping[str, ByImage], gold: ByImage, threshold: float = 0.5
) -> dict[str, GoldScore]:
    """Every person of the work and every model (model:<name> -> image -> shapes) against
    gold; empty when no image has finished gold."""
    if not gold:
        return {}
    return gold_scores({**by_annotator(people), **models}, gold, threshold)


def score_against_gold(
    annotator: str, mine: ByImage, gold: ByImage, threshold: float = 0.5
) -> GoldScore:
    """One annotator's shapes against gold's, over the images both finished."""
    images = drawn = truths = 0
    ious: list[float] = []
    pairs: list[tuple[str, str]] = []  # (annotator's label, gold's label) of each match
    drawn_by_label: Counter[str] = Counter()
    gold_by_label: Counter[str] = Counter()
    for key in sorted(set(mine) & set(gold)):
        shapes, truth = mine[key], gold[key]
        images += 1
        drawn += len(shapes)
        truths += len(truth)
        drawn_by_label.update(shape.label for shape in shapes)
        gold_by_label.update(shape.label for shape in truth)
        for found in match_objects(shapes, truth, threshold):
            ious.append(found.iou)
            pairs.append((shapes[found.a].label, truth[found.b].label))
    matched = len(pairs)
    same = Counter(mine_label for mine_label, gold_label in pairs if mine_label == gold_label)
    per_label = tuple(
        GoldLabelScore(
            label,
            drawn_by_label[label],
            gold_by_label[label],
            same[label],
            _share(same[label], drawn_by_label[label]),
            _share(same[label], gold_by_label[label]),
        )
        for label in sorted(set(drawn_by_label) | set(gold_by_label))
    )
    return GoldScore(
        annotator=annotator,
        images=images,
        objects=drawn,
        gold_objects=truths,
        matched=matched,
        precision=_share(matched, drawn),
        recall=_share(matched, truths),
        f1=f1_score(matched, drawn, truths) if images else math.nan,
        mean_iou=math.fsum(ious) / matched if matched else math.nan,
        label_accuracy=_share(sum(same.values()), matched),
        per_label=per_label,
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else math.nan
