"""Adjudication into gold, unit by unit, as pure functions: what gold holds after each
action, and crafted input refused with a message and nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

import pytest

from domain.annotation import Annotation
from domain.errors import ReviewError
from domain.labels import Label
from domain.review_actions import (
    Proposal,
    ReviewUnit,
    accept_all,
    accept_consensus,
    drop,
    find_gold,
    find_unit,
    relabel,
    take_shape,
)
from domain.sources import GOLD

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2024, 5, 1, 9, 5, tzinfo=UTC)
KEY = "b/1.jpg"
LABELS = (Label("cat", "#ff0000"), Label("dog", "#00ff00"))


def shape(who: str, label: str, coords: tuple[float, ...], kind: str = "rect") -> Annotation:
    return Annotation(f"{who}-{label}", KEY, who, label, kind, coords, created_at=T0, updated_at=T0)  # type: ignore[arg-type]


def ids() -> object:
    numbers = count(1)
    return lambda: f"new-{next(numbers)}"


ALICE = shape("alice", "cat", (10, 10, 50, 50))
BOB = shape("bob", "dog", (12, 11, 52, 49))
CAT_UNIT = ReviewUnit(1, {"alice": ALICE, "bob": BOB}, Proposal("cat", (11, 10.5, 51, 49.5), 2, 2))
LONELY = ReviewUnit(2, {"bob": shape("bob", "cat", (100, 100, 120, 130))}, None)


def test_accepting_a_consensus_gives_gold_its_box_and_label() -> None:
    gold = accept_consensus(KEY, (), CAT_UNIT, T1, ids())
    [record] = gold
    assert (record.annotator, record.image_key, record.label, record.kind) == (
        GOLD,
        KEY,
        "cat",
        "rect",
    )
    assert record.coords == (11, 10.5, 51, 49.5)
    assert record.id == "new-1"


def test_accepting_again_replaces_the_units_gold_shape_in_place() -> None:
    before = (replace_id(ALICE, "g1", "dog"),)
    unit = ReviewUnit(1, CAT_UNIT.members, CAT_UNIT.consensus, gold_id="g1")
    [record] = accept_consensus(KEY, before, unit, T1, ids())
    assert record.id == "g1"  # same id: an edit of the stored shape, versioned
    assert (record.label, record.coords, record.updated_at) == ("cat", (11, 10.5, 51, 49.5), T1)


def test_a_unit_without_consensus_cannot_be_accepted() -> None:
    with pytest.raises(ReviewError, match="no consensus"):
        accept_consensus(KEY, (), LONELY, T1, ids())


def test_taking_one_annotators_shape_copies_it_into_gold() -> None:
    polygon = Annotation("p", KEY, "bob", "dog", "polygon", points=((1, 1), (9, 1), (5, 8)))
    unit = ReviewUnit(3, {"bob": polygon}, None)
    [record] = take_shape(KEY, (), unit, "bob", T1, ids())
    assert (record.annotator, record.kind, record.points, record.label) == (
        GOLD,
        "polygon",
        polygon.points,
        "dog",
    )
    assert record.id != polygon.id  # a copy: the annotator's own shape is never touched


def test_taking_the_shape_of_someone_not_in_the_unit_is_refused() -> None:
    with pytest.raises(ReviewError, match="drew nothing"):
        take_shape(KEY, (), LONELY, "alice", T1, ids())
    with pytest.raises(ReviewError, match="choose whose"):
        take_shape(KEY, (), LONELY, None, T1, ids())


def test_drop_and_relabel_change_only_the_named_gold_shape() -> None:
    gold = (replace_id(ALICE, "g1", "cat"), replace_id(BOB, "g2", "dog"))
    assert [r.id for r in drop(gold, "g1")] == ["g2"]
    assert drop(gold, None) == gold
    relabelled = relabel(gold, "g2", "cat", LABELS, T1)
    assert [r.label for r in relabelled] == ["cat", "cat"]
    with pytest.raises(ReviewError, match="project's labels"):
        relabel(gold, "g2", "horse", LABELS, T1)
    with pytest.raises(ReviewError, match="not one of this image's gold"):
        relabel(gold, "someone-elses-id", "cat", LABELS, T1)


def test_accept_all_fills_only_units_with_consensus_and_no_gold() -> None:
    done = ReviewUnit(4, {"alice": ALICE}, Proposal("dog", (0, 0, 5, 5), 1, 2), gold_id="g9")
    gold, added = accept_all(
        KEY, (replace_id(ALICE, "g9", "dog"),), [CAT_UNIT, LONELY, done], T1, ids()
    )
    assert added == 1
    assert sorted(r.label for r in gold) == ["cat", "dog"]


def test_crafted_unit_numbers_and_gold_ids_are_refused() -> None:
    units = [CAT_UNIT, LONELY]
    assert find_unit(units, "u2") is LONELY
    assert find_unit(units, 1) is CAT_UNIT
    for crafted in ("u99", "u-1", "x", None, True, 3.5, {"id": 1}, "u1; drop table"):
        with pytest.raises(ReviewError, match="not one of this image's units"):
            find_unit(units, crafted)
    with pytest.raises(ReviewError):
        find_gold((), "alice-cat")


def replace_id(record: Annotation, new_id: str, label: str) -> Annotation:
    from dataclasses import replace

    return replace(record, id=new_id, annotator=GOLD, label=label)
