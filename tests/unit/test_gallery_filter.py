"""The gallery's filter in the URL: parsed with clear messages for bad parts, written back so
a link reproduces the view, narrowed for annotators; badges; where a click leads; the SVG
overlay that draws shapes over a thumbnail."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

from components.gallery_tab import overlay_uri
from domain.annotation import Annotation
from domain.gallery_filter import (
    GalleryFilter,
    for_viewer,
    is_gallery_view,
    open_target,
    page_count,
    parse_query,
    to_query,
)
from domain.labels import Label
from domain.review import Review, ReviewStatus
from workflows.gallery_page import badges


def test_a_link_gives_back_the_same_filter_and_page() -> None:
    found, problems = parse_query("?view=gallery&status=done&label=cat&page=3")
    assert problems == []
    assert found == GalleryFilter(status="done", label="cat", page=3)
    full = GalleryFilter(
        batch="b 1", status="todo", label="cat & dog", annotator="bob", finished=2,
        disagreement=0.25, score=0.5, name="img 0", show="consensus", page=7,
    )  # fmt: skip
    assert parse_query(to_query(full)) == (full, [])
    assert to_query(GalleryFilter()) == "?view=gallery"
    assert is_gallery_view(to_query(full)) and not is_gallery_view("?status=done")


def test_bad_parts_get_a_message_and_their_default() -> None:
    found, problems = parse_query("?page=-3&status=weird&score=abc&disagreement=7&finished=x")
    assert found == GalleryFilter()
    assert len(problems) == 5
    text = " ".join(problems)
    assert "'-3'" in text and "page 1" in text
    assert "Unknown status 'weird'" in text
    assert "'abc'" in text and "'7'" in text and "'x'" in text
    assert parse_query("?page=99999999999")[0].page == 1
    assert parse_query(None) == (GalleryFilter(), [])
    assert parse_query("?score=nan")[1] and parse_query("?score=inf")[1]


def test_an_annotator_is_narrowed_to_their_own_work() -> None:
    asked = GalleryFilter(
        status="done", annotator="bob", finished=2, disagreement=0.3, show="gold", label="cat"
    )
    mine, scope, notes = for_viewer(asked, "alice", reviewer=False)
    assert mine == GalleryFilter(status="done", label="cat")
    assert (scope.subject, scope.worked_only, scope.shown) == ("alice", False, "alice")
    assert "annotator" in notes[0] and "show" in notes[0]
    theirs, scope, notes = for_viewer(asked, "rita", reviewer=True)
    assert theirs == asked and notes == []
    assert (scope.subject, scope.worked_only, scope.shown) == ("bob", True, "gold")
    everyone = for_viewer(GalleryFilter(), "rita", reviewer=True)[1]
    assert (everyone.subject, everyone.shown) == (None, "everyone")


def test_badges_say_the_status_and_the_review() -> None:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    accepted = Review("k", ReviewStatus.ACCEPTED, "rita", at)
    rework = Review("k", ReviewStatus.REWORK, "rita", at)
    assert badges({}, "alice", None, False) == (("to do", "secondary"),)
    assert badges({"alice": "empty"}, "alice", accepted, False)[0][0] == "no objects"
    assert badges({"alice": "done"}, "alice", accepted, False)[1][0] == "reviewed"
    assert badges({}, "alice", None, True)[1][0] == "needs rework"
    assert badges({"a": "done", "b": "empty", "c": "skipped"}, None, rework, False) == (
        ("2 finished", "success"),
        ("needs rework", "danger"),
    )


def test_a_click_opens_the_tile_on_screen() -> None:
    items = {"batch": "b", "page": 2, "tiles": [{"key": "b/x.jpg", "index": 61}]}
    place = {"batch": "b", "key": "b/x.jpg", "index": 61}
    assert open_target({"tile": 0}, items, reviewer=False) == (place, "annotate")
    assert open_target({"tile": 0}, items, reviewer=True) == (place, "review")
    assert open_target({"tile": 1}, items, reviewer=False) is None
    assert open_target({"tile": "0"}, items, reviewer=False) is None
    assert open_target({"tile": 0}, None, reviewer=False) is None


def test_page_count() -> None:
    assert [page_count(n) for n in (0, 1, 60, 61, 100_000)] == [1, 1, 1, 2, 1667]


def test_the_overlay_draws_each_kind_in_its_labels_colour() -> None:
    def shape(kind: str, label: str, **geometry: object) -> Annotation:
        return Annotation(id=kind, image_key="k", annotator="a", label=label, kind=kind, **geometry)  # type: ignore[arg-type]

    shapes = [
        shape("rect", "cat", coords=(10, 20, 110, 70)),
        shape("circle", "dog", coords=(0, 0, 40, 20)),
        shape("line", "cat", coords=(1, 2, 3, 4)),
        shape("polygon", "dog", points=((1, 1), (5, 1), (5, 5))),
        shape("path", "old", points=((0, 0), (9, 9))),
    ]
    labels = (Label("cat", "#ff0000"), Label("dog", "#00ff00"))
    svg = unquote(overlay_uri(shapes, (640, 480), labels).split(",", 1)[1])
    assert 'viewBox="0 0 640 480"' in svg
    assert '<rect x="10" y="20" width="100" height="50" stroke="#ff0000"' in svg
    assert '<ellipse cx="20" cy="10" rx="20" ry="10" stroke="#00ff00"' in svg
    assert '<line x1="1" y1="2" x2="3" y2="4" stroke="#ff0000"' in svg
    assert '<polygon points="1,1 5,1 5,5" stroke="#00ff00"' in svg
    assert '<polyline points="0,0 9,9" stroke="#808080"' in svg
