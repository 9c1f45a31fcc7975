"""Planning an upload (domain/uploads.py): which files are taken, under which keys."""

from __future__ import annotations

import pytest

from domain.accounts import Role
from domain.uploads import (
    UPLOAD_TYPES,
    Offered,
    UploadError,
    clean_batch,
    may_upload,
    offered_files,
    plan_uploads,
    size_text,
)
from storage.images import IMAGE_EXTENSIONS

LIMIT = 1000


def keys(plans) -> list[str]:
    return [plan.key or plan.problem for plan in plans]


def test_uploads_take_exactly_the_extensions_the_image_sources_list() -> None:
    assert set(UPLOAD_TYPES) == set(IMAGE_EXTENSIONS)


def test_renaming_takes_the_first_free_name_past_the_source_and_the_request() -> None:
    existing = {"b/a.jpg", "b/a-1.jpg", "b/c.png"}
    offers = [Offered("a.jpg", 10), Offered("a.jpg", 10), Offered("c.png", 5), Offered("d.gif", 1)]

    plans = plan_uploads(offers, "b", "rename", LIMIT, existing.__contains__)

    assert keys(plans) == ["b/a-2.jpg", "b/a-3.jpg", "b/c-1.png", "b/d.gif"]
    assert [p.renamed for p in plans] == [True, True, True, False]
    assert [p.content_type for p in plans] == ["image/jpeg", "image/jpeg", "image/png", "image/gif"]


def test_refusing_duplicates_names_the_place_and_keeps_the_first_of_twins() -> None:
    offers = [Offered("a.jpg", 10), Offered("n.jpg", 10), Offered("n.jpg", 10)]

    plans = plan_uploads(offers, "", "refuse", LIMIT, {"a.jpg"}.__contains__)

    assert plans[0].problem == "a.jpg already exists in the top level: not uploaded."
    assert plans[1].key == "n.jpg" and not plans[2].accepted


@pytest.mark.parametrize(
    ("offer", "problem"),
    [
        (Offered("notes.txt", 10, "text/plain"), "notes.txt is not an image"),
        (Offered("x.jpg", 10, "application/pdf"), "x.jpg is not an image"),
        (Offered("x.jpg", 0), "x.jpg is empty"),
        (Offered("x.jpg", 1500), "x.jpg is 1 KB, over the upload limit of 1000 bytes"),
        (Offered(".x.jpg", 10), "starts with a dot"),
        (Offered("a/b.jpg", 10), "slash"),
    ],
)
def test_files_are_refused_with_a_reason(offer: Offered, problem: str) -> None:
    (plan,) = plan_uploads([offer], "b", "rename", LIMIT, lambda key: False)

    assert not plan.accepted and problem in plan.problem


def test_a_browser_without_a_type_gets_the_extensions() -> None:
    (plan,) = plan_uploads([Offered("scan.TIF", 9, "")], "b", "refuse", LIMIT, lambda k: False)

    assert plan.content_type == "image/tiff"


@pytest.mark.parametrize("batch", ["..", "a/b", ".hidden", "x" * 201])
def test_a_batch_must_be_one_plain_folder_name(batch: str) -> None:
    with pytest.raises(UploadError):
        clean_batch(batch)
    assert clean_batch("  ") == "" and clean_batch("site 3") == "site 3"


@pytest.mark.parametrize("raw", [None, [], [{"name": "a.jpg"}], [{"name": 3, "size": 1}], "x"])
def test_malformed_file_lists_are_refused(raw: object) -> None:
    with pytest.raises(UploadError):
        offered_files(raw)


def test_admins_upload_and_members_only_when_allowed() -> None:
    assert may_upload(Role.ADMIN, False)
    assert not may_upload(Role.REVIEWER, False) and may_upload(Role.ANNOTATOR, True)
    assert not may_upload(None, True)


def test_sizes_read_as_people_say_them() -> None:
    assert [size_text(n) for n in (512, 20_000, 50 * 1024 * 1024)] == [
        "512 bytes",
        "20 KB",
        "50 MB",
    ]
