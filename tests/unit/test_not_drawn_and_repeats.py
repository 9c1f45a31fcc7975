"""Two auditor findings: a label spelled like the 'not drawn' marker, and repeats that crashed
the report. Alpha is checked against nltk's independent implementation."""

from __future__ import annotations

import math

import pytest
from nltk.metrics.agreement import AnnotationTask

from analysis.intra import intra_rater
from analysis.report import agreement_report
from analysis.units import MISSED
from analysis.work import Work
from domain.errors import LabelError
from domain.labels import parse_labels
from tests.unit.test_analysis_report import drawn

HERE, THERE = (10.0, 10.0, 60.0, 50.0), (100.0, 100.0, 180.0, 160.0)


def nltk_alpha(rows: list[tuple[str, str, str]]) -> float:
    return AnnotationTask(data=rows).alpha()


def test_a_label_spelled_like_the_not_drawn_marker_stays_a_label() -> None:
    # On i1 a drew an object b did not draw; a labelled it "(missed)", the old marker's text.
    work = drawn(
        {
            "i1": {"a": [(HERE, "(missed)")], "b": []},
            "i2": {"a": [(HERE, "cat")], "b": [(HERE, "cat")]},
            "i3": {"a": [(HERE, "dog"), (THERE, "cat")], "b": [(HERE, "cat"), (THERE, "cat")]},
        }
    )
    report = agreement_report(work, resamples=0)

    units = [("i1", "(missed)", None), ("i2", "cat", "cat"), ("i3a", "dog", "cat")]
    units.append(("i3b", "cat", "cat"))
    honest = [
        (coder, unit, value if value is not None else "<not drawn>")
        for unit, a, b in units
        for coder, value in (("a", a), ("b", b))
    ]
    merged = [(c, u, "(missed)" if v == "<not drawn>" else v) for c, u, v in honest]
    assert report.label_alpha.value == pytest.approx(nltk_alpha(honest), abs=1e-12)
    assert nltk_alpha(merged) - nltk_alpha(honest) > 0.1  # what the old marker gave


def test_the_marker_equals_no_string_and_sorts_first() -> None:
    assert MISSED != "(missed)" and "(missed)" != MISSED and MISSED != ""
    assert sorted(["cat", MISSED, "", "(missed)"]) == [MISSED, "", "(missed)", "cat"]
    assert len({MISSED, "(missed)"}) == 2


@pytest.mark.parametrize("name", ["(missed)", "(none)", "( anything )"])
def test_labels_in_parentheses_are_reserved(name: str) -> None:
    with pytest.raises(LabelError, match="reserved"):
        parse_labels(f"cat,{name}")


def test_labels_with_parentheses_inside_are_fine() -> None:
    assert [label.name for label in parse_labels("car (parked),(left) door")] == [
        "car (parked)",
        "(left) door",
    ]


def repeated_work() -> Work:
    """ann's second pass missed one object on one repeated image."""
    return drawn(
        {
            "i1": {"ann": [(HERE, "cat"), (THERE, "dog")], "ann#repeat": [(HERE, "cat")]},
            "i2": {"ann": [(HERE, "dog")], "ann#repeat": [(HERE, "dog")]},
            "i3": {"ann": [(THERE, "cat")], "ann#repeat": [(THERE, "cat")]},
        }
    )


def test_intra_rater_with_a_missed_object_gives_alpha_with_an_interval() -> None:
    [ann] = intra_rater(repeated_work(), resamples=50, seed=3)

    assert (ann.annotator, ann.images, ann.matched) == ("ann", 3, 3)
    assert ann.f1 == pytest.approx(2 * 3 / (4 + 3))
    honest = [
        (coder, unit, value)
        for unit, first, second in [("1a", "cat", "cat"), ("1b", "dog", "-"), ("2", "dog", "dog")]
        + [("3", "cat", "cat")]
        for coder, value in (("first", first), ("second", second))
    ]
    assert ann.label_alpha == pytest.approx(nltk_alpha(honest), abs=1e-12)
    assert ann.alpha.ci_low <= ann.label_alpha <= ann.alpha.ci_high
    assert ann.to_json()["label_alpha_estimate"]["value"] == pytest.approx(ann.label_alpha)


def test_no_interval_when_resamples_is_zero_and_a_clear_error_below() -> None:
    report = agreement_report(repeated_work(), resamples=0)

    assert math.isfinite(report.label_alpha.value)
    assert math.isnan(report.label_alpha.ci_low)
    assert report.to_json()["null_reasons"]["label_alpha.ci_low"] == "no_interval"
    with pytest.raises(ValueError, match="resamples must be 0"):
        agreement_report(repeated_work(), resamples=-1)
