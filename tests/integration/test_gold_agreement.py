"""Gold in the Agreement tab's job, on SQLite and PostgreSQL: kept out of the people's
agreement, scored against where a reviewer accepted it, and the job's ranking remembered
for the review queue; review verdicts and comments in the history CSV."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from callbacks import agreement
from components import agreement_tab as tab
from domain.annotation import Annotation
from storage.errors import SaveFailed
from storage.review_store import ReviewStore
from storage.runtime import Services
from tests.unit.callback_support import call, install_services
from tests.unit.test_agreement_callbacks import SHAPES, record, text_of
from tests.unit.test_gold_scores import SCHEMA
from workflows.history import history_csv


def quiet(done: int, what: str) -> None:
    return None


def project(tmp_path: Path, database_url: str) -> Services:
    """The three annotators of tests/unit/test_agreement_callbacks.py, in this database."""
    folder = tmp_path / "images" / "site"
    folder.mkdir(parents=True)
    for name in ("a.png", "b.png", "c.png"):
        Image.new("RGB", (400, 200), (90, 120, 160)).save(folder / name)
    services = install_services(tmp_path, DATABASE_URL=database_url)
    for key, done in SHAPES.items():
        for who, shapes in done.items():
            records = [record(key, who, n, label, box) for n, (label, box) in enumerate(shapes)]
            services.store.sync_image(key, who, records)
    return services


def gold(key: str, number: int, label: str, box: tuple[int, ...]) -> Annotation:
    return record(key, "gold", number, label, box)


@pytest.fixture
def services(tmp_path: Path, database_url: str) -> Any:
    found = project(tmp_path, database_url)
    yield found
    found.store.engine.dispose()


def row_of(data: dict[str, Any], who: str) -> dict[str, Any]:
    return next(row for row in data["per_annotator"] if row["annotator"] == who)


def test_gold_is_scored_against_only_where_accepted_and_never_counted_as_a_person(
    services: Services,
) -> None:
    before, _, _ = agreement.agreement_job(0.5, None, quiet)
    # a reviewer's gold: a.png accepted (alice's box exactly, so alice scores 1), b.png only
    # drafted (not accepted: must not count), c.png accepted with an "animal" box
    services.store.sync_image(
        "site/a.png", "gold", [gold("site/a.png", 0, "person", (10, 10, 110, 110))], actor="rev"
    )
    services.store.sync_image(
        "site/b.png", "gold", [gold("site/b.png", 0, "person", (0, 0, 100, 100))], actor="rev"
    )
    services.store.sync_image(
        "site/c.png", "gold", [gold("site/c.png", 0, "animal", (50, 50, 150, 150))], actor="rev"
    )
    services.reviews.accept("site/a.png", "rev")
    services.reviews.accept("site/c.png", "rev")

    after, _, message = agreement.agreement_job(0.5, None, quiet)

    jsonschema.Draft202012Validator(SCHEMA).validate(
        {k: v for k, v in after.items() if k not in agreement.BROWSER_ONLY}
    )
    assert "gold" not in after["annotators"] and message.color == "success"
    # the people's agreement is exactly what it was without a gold layer
    for key in ("label_alpha", "presence_alpha_estimate", "pairwise", "ranking"):
        assert after[key] == before[key], key
    assert [row["vs_gold"] for row in before["per_annotator"]] == [None, None, None]
    assert after["images_with_gold"] == 2
    alice, bob, carol = (row_of(after, who)["vs_gold"] for who in ("alice", "bob", "carol"))
    assert (alice["images"], alice["objects"], alice["gold_objects"]) == (2, 2, 2)
    assert (alice["precision"], alice["recall"], alice["label_accuracy"]) == (1.0, 1.0, 1.0)
    assert alice["mean_iou"] == 1.0
    # bob: his a.png box (12..112) against gold's (10..110): IoU 98^2 / (2 * 100^2 - 98^2);
    # his c.png box is right but labelled person where gold says animal
    assert (bob["images"], bob["objects_matched"], bob["label_accuracy"]) == (2, 2, 0.5)
    assert bob["mean_iou"] == pytest.approx((98**2 / (2 * 100**2 - 98**2) + 1.0) / 2)
    assert [(p["label"], p["precision"], p["recall"]) for p in bob["per_label"]] == [
        ("animal", None, 0.0),
        ("person", 0.5, 1.0),
    ]
    assert carol["images"] == 1  # carol did not finish c.png; b.png's gold is a draft

    table = call(agreement.show_models, "agreement-report.data", after)
    shown = text_of(table)
    assert "Against gold" in shown and "2 image(s)" in shown
    assert "alice 2 1.000 1.000 1.000 1.000 1.000" in shown
    assert text_of(tab.gold_table(before)) == ""


def test_the_job_remembers_its_ranking_for_the_review_queue(services: Services) -> None:
    data, _, _ = agreement.agreement_job(0.5, None, quiet)

    remembered = ReviewStore(services.store.engine).disagreement_of()

    assert remembered == pytest.approx({row["image"]: row["score"] for row in data["ranking"]})
    assert remembered["site/b.png"] == pytest.approx(1 / 3) and remembered["site/c.png"] == 1.0
    # a stricter threshold replaces the remembered scores
    services.store.sync_image(
        "site/a.png", "bob", [record("site/a.png", "bob", 0, "person", (60, 60, 160, 160))]
    )
    agreement.agreement_job(0.5, None, quiet)
    assert services.reviews.disagreement_of(["site/a.png"])["site/a.png"] > 0.5


def test_a_ranking_that_cannot_be_saved_is_logged_and_the_report_shown(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(self: ReviewStore, scores: Any, threshold: float, **_: Any) -> None:
        raise SaveFailed("the database refused the ranking: disk full")

    monkeypatch.setattr(ReviewStore, "save_disagreement", refuse)
    with caplog.at_level(logging.WARNING, logger="workflows.agreement_data"):
        data, _, message = agreement.agreement_job(0.5, None, quiet)

    assert message.color == "success" and len(data["ranking"]) == 3
    assert "could not remember the disagreement ranking: the database refused" in caplog.text
    assert services.reviews.disagreement_of() == {}


def test_the_history_csv_carries_verdicts_rework_requests_and_comments(
    services: Services,
) -> None:
    reviews = services.reviews
    reviews.send_back("site/b.png", ["bob"], "rev", "=HYPERLINK(x) missed the second person")
    reviews.add_comment("site/b.png", "bob", "fixed,\nplease look again")
    reviews.accept("site/a.png", "rev", comment="looks right")

    table = list(csv.DictReader(io.StringIO(history_csv(services, batch="site").decode())))
    review = [row for row in table if row["action"] in ("review", "rework", "comment")]

    assert [(r["action"], r["annotator"], r["actor"], r["image_key"]) for r in review] == [
        ("comment", "gold", "rev", "site/b.png"),
        ("rework", "bob", "rev", "site/b.png"),
        ("review", "gold", "rev", "site/b.png"),
        ("comment", "gold", "bob", "site/b.png"),
        ("comment", "gold", "rev", "site/a.png"),
        ("review", "gold", "rev", "site/a.png"),
    ]
    assert [r["review"] for r in review] == ["", "", "rework", "", "", "accepted"]
    assert [r["comment"] for r in review] == [
        "'=HYPERLINK(x) missed the second person",  # neutralised: a spreadsheet shows text
        "'=HYPERLINK(x) missed the second person",
        "",
        "fixed,\nplease look again",
        "looks right",
        "",
    ]
    assert review[2]["sent_back_to"] == "bob"
    # bob's status on b.png was cleared by the send-back; the history says so too
    assert any(
        r["action"] == "status" and r["annotator"] == "bob" and r["image_key"] == "site/b.png"
        for r in table
    )
    # shape events keep empty review columns
    creates = [row for row in table if row["action"] == "create"]
    assert creates and all(r["review"] == r["comment"] == "" for r in creates)
    reviews.clear_review("site/a.png", "rev")
    last = list(csv.DictReader(io.StringIO(history_csv(services).decode())))[-1]
    assert (last["action"], last["review"]) == ("review", "cleared")
