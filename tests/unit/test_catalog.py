"""The cached, paged catalog of a source, and moving through it."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.catalog import Catalog
from storage.images import KeyPage, LocalFolderSource
from storage.positions import Place, first_place, settle, step
from tests.unit.callback_support import DictCache, make_batch


class CountingSource(LocalFolderSource):
    """A folder source that records each listing request."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.listings: list[tuple[str, str | None]] = []
        self.batch_scans = 0

    def list_keys(self, batch: str, after: str | None, limit: int, prefix: str = "") -> KeyPage:
        self.listings.append((batch, after))
        return super().list_keys(batch, after, limit, prefix)

    def batches(self, max_entries: int):
        self.batch_scans += 1
        return super().batches(max_entries)


@pytest.fixture
def source(tmp_path: Path) -> CountingSource:
    make_batch(tmp_path / "day1", [(20, 10)] * 5)  # day1/img01.jpg .. day1/img05.jpg
    make_batch(tmp_path / "day2", [(20, 10)] * 2)
    (tmp_path / "day1" / "notes.txt").write_text("not an image")
    for key in make_batch(tmp_path, [(20, 10)]):
        (tmp_path / key).rename(tmp_path / "top.jpg")
    return CountingSource(tmp_path)


def catalog_of(source: CountingSource, cache: DictCache | None = None) -> Catalog:
    return Catalog(source, cache or DictCache(), page_size=2)


def day1(number: int) -> str:
    return f"day1/img{number:02d}.jpg"


def test_keys_are_listed_one_page_at_a_time_and_only_when_needed(source) -> None:
    catalog = catalog_of(source)

    assert catalog.key_at("day1", 0) == day1(1)
    assert source.listings == [("day1", None)]  # the first image needs one page, not the batch

    assert catalog.key_at("day1", 3) == day1(4)
    assert source.listings == [("day1", None), ("day1", day1(2))]

    assert catalog.key_at("day1", 4) == day1(5)
    assert catalog.key_at("day1", 5) is None
    assert catalog.key_at("day1", -1) is None
    assert len(source.listings) == 3


def test_keys_from_a_position_cross_pages_and_stop_at_the_end(source) -> None:
    catalog = catalog_of(source)

    assert catalog.keys_from("day1", 1, 3) == [day1(2), day1(3), day1(4)]
    assert catalog.keys_from("day1", 3, 10) == [day1(4), day1(5)]
    assert catalog.keys_from("day1", 5, 10) == []
    assert catalog.keys_from("day2", 0, 0) == []


def test_listed_pages_are_shared_through_the_cache(source) -> None:
    cache = DictCache()
    catalog_of(source, cache).key_at("day1", 3)
    calls = len(source.listings)

    other_worker = catalog_of(source, cache)

    assert other_worker.key_at("day1", 3) == day1(4)
    assert other_worker.locate("day1", day1(2)) == 1
    assert len(source.listings) == calls


def test_count_is_a_lower_bound_until_the_last_page_is_listed(source) -> None:
    catalog = catalog_of(source)
    catalog.key_at("day1", 0)

    assert catalog.count("day1") == (2, False)
    assert catalog.total("day1") == 5
    assert catalog.count("day1") == (5, True)
    assert catalog.total("empty") == 0


def test_extend_counts_a_big_batch_a_few_pages_at_a_time(source) -> None:
    catalog = catalog_of(source)

    assert catalog.extend("day1", 1) == (2, False)
    assert len(source.listings) == 1
    assert catalog.extend("day1", 1) == (4, False)
    assert catalog.extend("day1", 5) == (5, True)
    assert len(source.listings) == 3
    assert catalog.extend("day1", 5) == (5, True)  # nothing left to list
    assert len(source.listings) == 3


def test_locate_uses_the_hint_and_finds_keys_on_later_pages(source) -> None:
    catalog = catalog_of(source)

    assert catalog.locate("day1", day1(5)) == 4
    assert catalog.locate("day1", day1(3), hint=2) == 2
    assert catalog.locate("day1", day1(3), hint=0) == 2  # a stale hint is not trusted
    assert catalog.locate("day1", "day1/img03.png") is None
    assert catalog.locate("day1", "day2/img01.jpg") is None
    assert catalog.locate("day1", None) is None


def test_new_images_appear_after_a_refresh(source, tmp_path: Path) -> None:
    catalog = catalog_of(source)
    assert catalog.total("day2") == 2
    make_batch(tmp_path / "day2", [(20, 10)] * 3)

    assert catalog.total("day2") == 2  # cached
    catalog.refresh()
    assert catalog.total("day2") == 3


def test_batches_are_scanned_once_and_cached(source) -> None:
    catalog = catalog_of(source)

    assert catalog.batches().names == ("", "day1", "day2")
    catalog.batches()
    assert source.batch_scans == 1


def test_search_matches_the_start_of_names_within_the_batch(source) -> None:
    catalog = catalog_of(source)

    assert catalog.search("day1", "img0", 3) == (day1(1), day1(2), day1(3))
    assert catalog.search("day1", "img05", 10) == (day1(5),)
    assert catalog.search("day1", "nope", 10) == ()


def test_settle_keeps_a_listed_image_and_its_position(source) -> None:
    catalog = catalog_of(source)

    place, note = settle(catalog, {"batch": "day1", "key": day1(4), "index": 0})

    assert place == Place("day1", day1(4), 3) and note is None


def test_settle_explains_an_image_that_left_and_shows_the_batchs_first(source) -> None:
    place, note = settle(catalog_of(source), {"batch": "day1", "key": "day1/gone.jpg"})

    assert place == Place("day1", day1(1), 0)
    assert note == "day1/gone.jpg is no longer in the batch; showing day1/img01.jpg."


@pytest.mark.parametrize(
    "remembered",
    [None, {}, {"batch": "removed-batch", "key": "removed-batch/a.jpg"}, {"batch": 7}],
)
def test_settle_starts_at_the_first_batch_without_a_usable_memory(source, remembered) -> None:
    place, _ = settle(catalog_of(source), remembered)

    assert place == Place("", "top.jpg", 0)


def test_an_empty_batch_is_a_place_without_an_image(source, tmp_path: Path) -> None:
    (tmp_path / "day3").mkdir()

    assert first_place(catalog_of(source), "day3") == Place("day3", None, None)


def test_step_moves_within_the_batch_and_stops_at_its_ends(source) -> None:
    catalog = catalog_of(source)
    second = Place("day1", day1(2), 1)

    assert step(catalog, second, 1) == Place("day1", day1(3), 2)
    assert step(catalog, second, -1) == Place("day1", day1(1), 0)
    assert step(catalog, second, -2) == second
    assert step(catalog, Place("day1", day1(5), 4), 1) == Place("day1", day1(5), 4)
    assert step(catalog, Place("day2", None, None), 1) == Place("day2", None, None)


def test_the_pages_of_one_listing_scan_the_folder_once(
    source: CountingSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans: list[str] = []
    scan_now = source._scan_now
    monkeypatch.setattr(source, "_scan_now", lambda batch: scans.append(batch) or scan_now(batch))
    catalog = Catalog(source, DictCache(), page_size=2)

    keys = catalog.keys_from("day1", 0, catalog.total("day1"))
    catalog.refresh()
    again = catalog.keys_from("day1", 0, 5)

    assert keys == again == [f"day1/img{n:02d}.jpg" for n in range(1, 6)]
    assert scans == ["day1", "day1"]  # three pages each time; a listing from the start rescans
