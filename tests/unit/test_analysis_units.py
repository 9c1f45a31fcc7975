"""Units across annotators and consensus objects, on hand-built images."""

from __future__ import annotations

import pytest

from analysis.consensus import consensus_of, majority_label
from analysis.units import MISSED, image_units, unit_labels
from analysis.work import work_of
from domain.annotation import Annotation


def box(who: str, label: str, x0: float, y0: float, x1: float, y1: float, key: str = "a.jpg"):
    return Annotation(
        id=f"{who}-{label}-{x0}-{y0}",
        image_key=key,
        annotator=who,
        label=label,
        kind="rect",
        coords=(x0, y0, x1, y1),
    )


def test_matched_objects_form_one_unit_per_object_and_misses_show() -> None:
    shapes = {
        "ann": (box("ann", "cat", 0, 0, 100, 100), box("ann", "dog", 200, 0, 300, 100)),
        "bob": (box("bob", "cat", 2, 2, 102, 98), box("bob", "cat", 198, 0, 298, 100)),
        "cy": (box("cy", "cat", 1, 0, 99, 101),),
    }

    units = image_units("a.jpg", shapes)

    assert [dict(u.members) for u in units] == [{"ann": 0, "bob": 0, "cy": 0}, {"ann": 1, "bob": 1}]
    coders = ["ann", "bob", "cy", "dee"]  # dee did not finish the image
    assert unit_labels(units[1], shapes, coders) == ["dog", "cat", MISSED, None]


def test_a_unit_never_holds_two_objects_of_one_annotator() -> None:
    # bob's two boxes both overlap ann's one box; only the better one joins it
    shapes = {
        "ann": (box("ann", "cat", 0, 0, 100, 100),),
        "bob": (box("bob", "cat", 0, 0, 100, 90), box("bob", "cat", 0, 10, 100, 100)),
    }

    units = image_units("a.jpg", shapes)

    assert sorted(tuple(sorted(u.members.items())) for u in units) == [
        (("ann", 0), ("bob", 0)),
        (("bob", 1),),
    ]


def test_consensus_is_the_median_box_with_the_majority_label_and_half_support() -> None:
    records = [
        box("ann", "cat", 0, 0, 100, 100),
        box("bob", "cat", 10, 4, 110, 104),
        box("cy", "dog", 2, 0, 130, 100),  # an outlying right edge: the median ignores it
        box("ann", "dog", 300, 300, 350, 350),  # only ann: 1 of 3 is not enough
    ]
    statuses = {("a.jpg", "ann"): "done", ("a.jpg", "bob"): "done", ("a.jpg", "cy"): "done"}

    found = consensus_of(work_of(records, statuses))["a.jpg"]

    assert len(found) == 1
    assert (found[0].label, found[0].box) == ("cat", (2.0, 0.0, 110.0, 100.0))
    assert (found[0].support, found[0].annotators) == (3, 3)


def test_images_found_empty_count_as_finished_and_skips_do_not() -> None:
    records = [box("ann", "cat", 0, 0, 100, 100)]
    statuses = {("a.jpg", "bob"): "empty", ("a.jpg", "cy"): "skipped", ("b.jpg", "bob"): "empty"}

    work = work_of(records, statuses)

    assert work.annotators == ("ann", "bob")
    assert {key: sorted(done) for key, done in work.by_image.items()} == {
        "a.jpg": ["ann", "bob"],
        "b.jpg": ["bob"],
    }
    assert consensus_of(work)["a.jpg"][0].support == 1  # 1 of 2 is half: kept
    assert consensus_of(work)["b.jpg"] == []  # agreed empty
    assert work.shared_images() == ("a.jpg",)


def test_majority_label_ties_go_to_the_first_name() -> None:
    assert majority_label(["dog", "cat", "dog", "cat"]) == "cat"
    assert majority_label(["dog", "cat", "dog"]) == "dog"


def test_median_seconds_count_only_images_the_annotator_finished() -> None:
    records = [box("ann", "cat", 0, 0, 10, 10, key=k) for k in ("a.jpg", "b.jpg", "c.jpg")]
    seconds = {("a.jpg", "ann"): 10.0, ("b.jpg", "ann"): 30.0, ("c.jpg", "ann"): 14.0}
    seconds[("d.jpg", "ann")] = 500.0  # looked at, never finished: not counted

    work = work_of(records, {}, seconds)

    assert work.median_seconds("ann") == 14.0
    assert work.median_seconds("bob") is None
    assert work.without("bob").median_seconds("ann") == 14.0


def test_presence_kappa_is_fleiss_kappa_over_images_everyone_finished() -> None:
    from analysis.report import agreement_report

    records = [
        box("ann", "cat", 0, 0, 10, 10, key="both.jpg"),
        box("bob", "cat", 0, 0, 10, 10, key="both.jpg"),
        box("ann", "cat", 0, 0, 10, 10, key="split.jpg"),
        box("ann", "cat", 0, 0, 10, 10, key="only-ann.jpg"),  # bob never finished it
    ]
    statuses = {("none.jpg", "ann"): "empty", ("none.jpg", "bob"): "empty"}
    statuses[("split.jpg", "bob")] = "empty"

    report = agreement_report(work_of(records, statuses), resamples=10).to_json()

    # items [yes, yes], [no, no], [yes, no]: P = 2/3, Pe = 1/2, kappa = (2/3 - 1/2) / (1/2)
    assert report["presence_kappa"] == pytest.approx(1 / 3)
