"""The gallery's server-side filter on each database backend: statuses, label, annotator,
number of annotators who finished, disagreement, model score and name; the facts a page
shows; and an annotator sees only their own work however the request is crafted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from domain.annotation import Annotation
from domain.gallery_filter import GalleryFilter, for_viewer, parse_query
from domain.status import ImageStatus
from storage.annotation_store import AnnotationStore
from storage.catalog import Catalog
from storage.gallery_query import GalleryQuery, page_facts
from storage.images import LocalFolderSource
from storage.review_store import ReviewStore

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
NAMES = [f"b/img{n:02d}.jpg" for n in range(1, 9)]


class DictCache:
    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def get(self, key: str) -> object:
        return self.values.get(key)

    def set(self, key: str, value: object, timeout: int | None = None) -> bool:
        self.values[key] = value
        return True


def shape(key: str, who: str, label: str, n: int, score: float | None = None) -> Annotation:
    return Annotation(
        id=f"{who}-{key}-{n}",
        image_key=key,
        annotator=who,
        label=label,
        kind="rect",
        coords=(1.0, 2.0, 10.0 + n, 12.0),
        created_at=T0,
        updated_at=T0,
        source="model:det@1" if who.startswith("model:") else "human",
        score=score,
    )


@pytest.fixture
def query(store: AnnotationStore, tmp_path: Path) -> GalleryQuery:
    """Eight images in batch b:
    img01 alice done (cat), bob done (dog)    reviewed, disagreement 0.8
    img02 alice empty
    img03 alice skipped, bob done (cat)       disagreement 0.1
    img04 bob done (cat)
    img05 model:det cat 0.3
    img06 model:det cat 0.9
    img07: nothing
    img08: alice finished it, then it was sent back to her (rework, her status cleared)
    """
    for key in NAMES:
        (tmp_path / "b").mkdir(exist_ok=True)
        Image.new("RGB", (40, 30)).save(tmp_path / key)
    store.sync_image(NAMES[0], "alice", [shape(NAMES[0], "alice", "cat", 1)])
    store.sync_image(NAMES[0], "bob", [shape(NAMES[0], "bob", "dog", 1)])
    store.set_status(NAMES[1], "alice", ImageStatus.EMPTY)
    store.set_status(NAMES[2], "alice", ImageStatus.SKIPPED)
    store.sync_image(NAMES[2], "bob", [shape(NAMES[2], "bob", "cat", 1)])
    store.sync_image(NAMES[3], "bob", [shape(NAMES[3], "bob", "cat", 1)])
    store.sync_image(NAMES[4], "model:det", [shape(NAMES[4], "model:det", "cat", 1, 0.3)])
    store.sync_image(NAMES[5], "model:det", [shape(NAMES[5], "model:det", "cat", 1, 0.9)])
    reviews = ReviewStore(store.engine)
    reviews.accept(NAMES[0], "rita")
    store.set_status(NAMES[7], "alice", ImageStatus.DONE)
    reviews.send_back(NAMES[7], ["alice"], "rita", "look again")
    reviews.save_disagreement({NAMES[0]: 0.8, NAMES[2]: 0.1}, 0.5)
    catalog = Catalog(LocalFolderSource(tmp_path), DictCache(), page_size=3)
    return GalleryQuery(store.engine, catalog, DictCache())


def names(query: GalleryQuery, search: str, viewer: str | None = None) -> list[str]:
    found, problems = parse_query(search)
    assert problems == []
    found, scope, _ = for_viewer(found, viewer, reviewer=viewer is None)
    chosen, total, exact, _ = query.page("b", found, scope)
    assert exact and total == len(chosen)
    return [key.removeprefix("b/img").removesuffix(".jpg") for _, key in chosen]


def test_a_reviewer_filters_by_everyones_work(query: GalleryQuery) -> None:
    assert names(query, "status=done") == ["01", "03", "04"]
    assert names(query, "status=empty") == ["02"]
    assert names(query, "status=skipped") == ["03"]
    assert names(query, "status=todo") == ["05", "06", "07", "08"]
    assert names(query, "status=reviewed") == ["01"]
    assert names(query, "status=rework") == ["08"]
    assert names(query, "label=cat") == ["01", "03", "04"]  # people's shapes only
    assert names(query, "label=cat&show=model:det") == ["05", "06"]
    assert names(query, "label=cat&show=bob") == ["03", "04"]  # the label among bob's shapes
    assert names(query, "annotator=bob") == ["01", "03", "04"]
    assert names(query, "annotator=alice&status=done") == ["01"]
    assert names(query, "annotator=alice&label=dog") == []
    assert names(query, "finished=2") == ["01"]
    assert names(query, "finished=1") == ["02", "03", "04"]
    assert names(query, "finished=0") == ["05", "06", "07", "08"]
    assert names(query, "disagreement=0.5") == ["01"]
    assert names(query, "disagreement=0.05") == ["01", "03"]
    assert names(query, "score=0.5") == ["05"]
    assert names(query, "name=IMG0") == ["01", "02", "03", "04", "05", "06", "07", "08"]
    assert names(query, "name=g07") == ["07"]
    assert names(query, "status=done&label=cat&name=4") == ["04"]


def test_an_annotator_sees_only_their_own_work_whatever_the_url_says(
    query: GalleryQuery,
) -> None:
    assert names(query, "status=done", "alice") == ["01"]
    assert names(query, "status=todo", "alice") == ["04", "05", "06", "07", "08"]
    assert names(query, "status=rework", "alice") == ["08"]
    assert names(query, "label=cat", "alice") == ["01"]
    assert names(query, "label=dog", "alice") == []  # bob's dog stays bob's
    # Crafted: someone else's work, counts over everyone, other people's shapes.
    assert names(query, "annotator=bob&status=done", "alice") == ["01"]
    assert names(query, "finished=2&disagreement=0.5", "alice") == [
        "01", "02", "03", "04", "05", "06", "07", "08",
    ]  # fmt: skip
    found, scope, notes = for_viewer(parse_query("show=bob&annotator=bob")[0], "alice", False)
    assert scope.subject == "alice" and scope.shown == "alice" and notes
    facts = page_facts(query.engine, NAMES, scope)
    assert {s.annotator for s in facts.shapes} == {"alice"}
    assert set(facts.statuses) == {NAMES[0], NAMES[1], NAMES[2]}
    assert all(set(by_who) == {"alice"} for by_who in facts.statuses.values())
    assert facts.rework == {NAMES[7]}


def test_a_page_carries_whose_shapes_were_asked_for(query: GalleryQuery) -> None:
    everyone = for_viewer(GalleryFilter(), None, True)[1]
    facts = page_facts(query.engine, NAMES, everyone)
    assert {s.annotator for s in facts.shapes} == {"alice", "bob"}  # people, no model
    assert facts.statuses[NAMES[2]] == {"alice": "skipped", "bob": "done"}
    assert facts.reviews[NAMES[0]].status == "accepted"
    model = for_viewer(GalleryFilter(show="model:det"), None, True)[1]
    shapes = page_facts(query.engine, NAMES, model).shapes
    assert [(s.image_key, s.score) for s in shapes] == [(NAMES[4], 0.3), (NAMES[5], 0.9)]


def test_results_follow_changes_and_pages(query: GalleryQuery, store: AnnotationStore) -> None:
    assert names(query, "status=done") == ["01", "03", "04"]
    store.set_status(NAMES[6], "carol", ImageStatus.DONE)
    assert names(query, "status=done") == ["01", "03", "04", "07"]  # not the cached answer
    found, scope, _ = for_viewer(GalleryFilter(page=1), None, True)
    chosen, total, exact, _ = query.page("b", found, scope)
    assert [i for i, _ in chosen] == list(range(8)) and total == 8 and exact


def test_a_huge_batch_is_listed_only_as_far_as_the_page_needs(
    store: AnnotationStore, tmp_path: Path
) -> None:
    (tmp_path / "c").mkdir()
    for n in range(130):
        Image.new("RGB", (8, 8)).save(tmp_path / "c" / f"p{n:03d}.jpg")
    store.set_status("c/p000.jpg", "alice", ImageStatus.DONE)
    source = LocalFolderSource(tmp_path)
    listed: list[str | None] = []
    real = source.list_keys

    def counted(batch: str, after: str | None, limit: int, prefix: str = ""):
        listed.append(after)
        return real(batch, after, limit, prefix)

    source.list_keys = counted  # type: ignore[method-assign]
    query = GalleryQuery(store.engine, Catalog(source, DictCache(), page_size=50), DictCache())
    scope = for_viewer(GalleryFilter(), None, True)[1]

    chosen, total, exact, _ = query.page("c", GalleryFilter(status="todo"), scope)
    assert [i for i, _ in chosen] == list(range(1, 61))  # p000 is done
    assert (total, exact, len(listed)) == (99, False, 2)  # "at least 99": 2 pages of 3 read
    chosen, total, exact, _ = query.page("c", GalleryFilter(status="todo", page=3), scope)
    assert [k for _, k in chosen] == [f"c/p{n:03d}.jpg" for n in range(121, 130)]
    assert (total, exact, len(listed)) == (129, True, 3)
    chosen, total, exact, _ = query.page("c", GalleryFilter(status="todo"), scope)
    assert (total, exact, len(listed)) == (129, True, 3)  # listed whole: exact, from cache
