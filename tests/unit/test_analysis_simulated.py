"""The report recovers biases planted in simulated annotators, and ranks them most extreme.

Simulation (numpy Generator, seed 2024): 300 images of 640 x 480 px, each with 1-6 ground-truth
boxes of labels A, B, C, 40-200 px wide and tall, placed so that no two overlap with IoU > 0.2
(so "the same object" is never ambiguous). Five annotators finish every image and draw each
true box with independent uniform noise of +-2 px on every edge, plus their planted bias:

    careful   none
    wide      boxes 20 % wider and taller about the centre: area ratio 1.44, ln 1.44 = 0.365
    shifted   boxes moved right by 10 % of their width: dx = 0.10
    misser    skips each object with probability 0.2: miss rate 0.20
    confuser  swaps A <-> B with probability 0.3: confusion row A, column B = 0.30

Boxes are not clipped to the image, so a bias is never cut short at the border. Tolerances
allow for the noise and for the 300-image sample: the miss rate is a proportion of about
1,000 objects (standard error about 0.013), the swap share one of about 350 A objects
(standard error about 0.025).
"""

from __future__ import annotations

import math
from itertools import count

import numpy as np
import pytest

from analysis.bias import AnnotatorBias
from analysis.geometry import iou
from analysis.report import AgreementReport, agreement_report
from analysis.work import work_of
from domain.annotation import Annotation

WIDTH, HEIGHT = 640, 480
LABELS = ("A", "B", "C")
ANNOTATORS = ("careful", "wide", "shifted", "misser", "confuser")
_ids = count()


def truth_boxes(rng: np.random.Generator) -> list[tuple[tuple[float, ...], str]]:
    placed: list[Annotation] = []
    wanted = int(rng.integers(1, 7))
    while len(placed) < wanted:
        w, h = rng.uniform(40, 200, 2)
        x, y = rng.uniform(0, WIDTH - w), rng.uniform(0, HEIGHT - h)
        candidate = _rect("truth", "", (x, y, x + w, y + h), str(rng.choice(LABELS)))
        if all(iou(candidate, other) <= 0.2 for other in placed):
            placed.append(candidate)
    return [(shape.coords, shape.label) for shape in placed]


def drawn_by(
    who: str, box: tuple[float, ...], label: str, rng: np.random.Generator
) -> tuple[tuple[float, ...], str] | None:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if who == "wide":
        x0, x1, y0, y1 = x0 - 0.1 * w, x1 + 0.1 * w, y0 - 0.1 * h, y1 + 0.1 * h
    elif who == "shifted":
        x0, x1 = x0 + 0.1 * w, x1 + 0.1 * w
    elif who == "misser" and rng.random() < 0.2:
        return None
    elif who == "confuser" and label in ("A", "B") and rng.random() < 0.3:
        label = "B" if label == "A" else "A"
    noise = rng.uniform(-2.0, 2.0, 4)
    return (x0 + noise[0], y0 + noise[1], x1 + noise[2], y1 + noise[3]), label


def _rect(who: str, image: str, box: tuple[float, ...], label: str) -> Annotation:
    return Annotation(
        id=f"s{next(_ids)}", image_key=image, annotator=who, label=label, kind="rect", coords=box
    )


@pytest.fixture(scope="module")
def report() -> AgreementReport:
    rng = np.random.default_rng(2024)
    records = []
    for number in range(300):
        image = f"sim/{number:03d}.jpg"
        for box, label in truth_boxes(rng):
            for who in ANNOTATORS:
                drawing = drawn_by(who, box, label, rng)
                if drawing is not None:
                    records.append(_rect(who, image, *drawing))
    statuses = {(f"sim/{n:03d}.jpg", who): "done" for n in range(300) for who in ANNOTATORS}
    return agreement_report(work_of(records, statuses), resamples=20)


def by_name(report: AgreementReport) -> dict[str, AnnotatorBias]:
    return {bias.annotator: bias for bias in report.per_annotator}


def test_every_annotator_is_compared_on_every_image(report: AgreementReport) -> None:
    assert report.images == 300
    assert sorted(report.annotators) == sorted(ANNOTATORS)
    assert all(bias.images == 300 for bias in report.per_annotator)


def test_wide_annotator_has_the_largest_area_ratio(report: AgreementReport) -> None:
    ratios = {name: bias.median("log_area_ratio") for name, bias in by_name(report).items()}

    assert ratios["wide"] == pytest.approx(math.log(1.44), abs=0.05)
    assert max(ratios, key=ratios.__getitem__) == "wide"
    # 20 % wider about the centre: each edge 10 % of the width outside
    wide = by_name(report)["wide"]
    for edge in ("left", "right", "top", "bottom"):
        assert wide.median(edge) == pytest.approx(0.1, abs=0.02)


def test_shifted_annotator_has_the_largest_dx(report: AgreementReport) -> None:
    dx = {name: bias.median("dx") for name, bias in by_name(report).items()}

    assert dx["shifted"] == pytest.approx(0.10, abs=0.02)
    assert max(dx, key=dx.__getitem__) == "shifted"
    assert abs(by_name(report)["shifted"].median("dy")) < 0.02


def test_misser_has_the_largest_miss_rate(report: AgreementReport) -> None:
    misses = {name: bias.miss_rate for name, bias in by_name(report).items()}

    assert misses["misser"] == pytest.approx(0.20, abs=0.05)
    assert max(misses, key=misses.__getitem__) == "misser"
    assert misses["careful"] < 0.02


def test_confuser_has_the_lowest_label_kappa(report: AgreementReport) -> None:
    people = by_name(report)
    kappas = {name: bias.label_kappa for name, bias in people.items()}
    confuser = people["confuser"]
    row_a = confuser.confusion[confuser.confusion_labels.index("A")]

    assert min(kappas, key=kappas.__getitem__) == "confuser"
    assert row_a[confuser.confusion_labels.index("B")] == pytest.approx(0.3, abs=0.07)
    assert kappas["careful"] > 0.95


def test_biased_annotators_lower_the_label_alpha(report: AgreementReport) -> None:
    effects = {name: bias.alpha_effect for name, bias in by_name(report).items()}

    # misses and swapped labels are disagreements; box size and position are not label values
    assert effects["misser"] < 0 and effects["confuser"] < 0
    assert effects["careful"] > 0
    low, high = report.label_alpha.ci_low, report.label_alpha.ci_high
    assert low <= report.label_alpha.value <= high < 1.0


def test_two_biased_edges_pull_the_median_of_four(report: AgreementReport) -> None:
    careful = by_name(report)["careful"]

    # The careful annotator's reference is the median of the four others. Its right edge has
    # wide's and shifted's edges at +0.1 w among four values, so the median (mean of the two
    # middle ones) sits at +0.05 w; its left edge has one at -0.1 w and one at +0.1 w, and stays.
    assert careful.median("right") == pytest.approx(-0.05, abs=0.01)
    assert careful.median("left") == pytest.approx(0.0, abs=0.01)
    assert careful.median("top") == pytest.approx(0.0, abs=0.01)
