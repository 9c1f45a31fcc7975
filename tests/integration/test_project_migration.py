"""An existing deployment upgraded to projects: a database the release before projects
(fe92ca0, revision 0010) filled (tests/fixtures/release_0010.json, made by that release's own
stores with tests/fixtures/make_release_0010.py) opens with this code as the first project,
"default", every record where it was and every setting the environment's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from PIL import Image
from sqlalchemy import DateTime, Engine, func, insert, select, text

import storage.runtime as runtime
from config import load_settings
from domain.annotation import Annotation, utc_now
from domain.projects import Project
from storage.annotation_store import make_engine
from storage.migrate import _config, current_revision, head_revision, upgrade
from storage.runtime import Services, build_services, current, install, project_scope
from storage.schema import PROJECTS, metadata
from tests.unit.callback_support import DictCache
from workflows.agreement_data import agreement_data
from workflows.exchange import export_annotations

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release_0010.json"
RELEASE = json.loads(FIXTURE.read_text())
TABLES: dict[str, list[dict[str, Any]]] = RELEASE["tables"]
SERIAL_IDS = ("events", "comments", "failed_sign_ins")  # autoincrement ids


def parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def as_text(value: Any) -> Any:
    """A value read back, as the fixture writes it (times as ISO text in UTC)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return value


def typed(name: str, row: dict[str, Any]) -> dict[str, Any]:
    """A fixture row with its times as datetimes again."""
    table = metadata.tables[name]
    return {
        key: parse_time(value) if isinstance(table.c[key].type, DateTime) else value
        for key, value in row.items()
    }


def release_database(url: str) -> None:
    """An empty database brought to 0010 and filled with the release's rows, its id
    sequences past them as the release left them."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), "0010")
        with engine.begin() as conn:
            for name, rows in TABLES.items():
                if rows:
                    conn.execute(insert(metadata.tables[name]), [typed(name, r) for r in rows])
            if engine.dialect.name == "postgresql":
                for name in SERIAL_IDS:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"(SELECT max(id) FROM {name}))"
                        )
                    )
        assert current_revision(engine) == "0010"
    finally:
        engine.dispose()


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """The rows of the fixture's tables as the database holds them now."""
    found = {}
    with engine.connect() as conn:
        for name in TABLES:
            table = metadata.tables[name]
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            found[name] = [{k: as_text(v) for k, v in row.items()} for row in rows]
    return found


@pytest.fixture
def upgraded(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Services]:
    """The release's database opened by this code (migrated to the newest revision), with
    the release's images and labels in the environment."""
    for key, (width, height) in RELEASE["images"].items():
        path = tmp_path / "images" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (width, height), (90, 120, 150)).save(path)
    release_database(database_url)
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(tmp_path / "data"),
            "IMAGE_SOURCE": str(tmp_path / "images"),
            "LABELS": ",".join(RELEASE["labels"]),
        }
    )
    monkeypatch.setattr(runtime, "_current", runtime._current)  # put back afterwards
    services = install(build_services(settings, DictCache(), DictCache()))
    yield services
    hub = services.hub
    engines = [] if hub is None else list(hub._engines.values())
    for engine in {services.store.engine, *engines}:
        engine.dispose()


# ------------------------------------------------------------------ what the rows say


def expected_shapes() -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    found: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for row in sorted(TABLES["annotations"], key=lambda r: (r["created_at"], r["id"])):
        geometry = row["geometry"]
        found.setdefault((row["image_key"], row["annotator"]), []).append(
            (
                row["id"],
                row["label"],
                row["kind"],
                tuple(float(v) for v in geometry["coords"]),
                tuple((float(x), float(y)) for x, y in geometry["points"]),
                row["source"],
                row["score"],
                row["version"],
                row["created_at"],
                row["updated_at"],
            )
        )
    return found


def shape_facts(record: Annotation) -> tuple[Any, ...]:
    return (
        record.id,
        record.label,
        record.kind,
        record.coords,
        record.points,
        record.source,
        record.score,
        record.version,
        as_text(record.created_at),
        as_text(record.updated_at),
    )


def by_image(name: str, *columns: str) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    for row in TABLES[name]:
        found.setdefault(row["image_key"], []).append(tuple(row[c] for c in columns))
    return found


def people() -> list[str]:
    return sorted({r["annotator"] for r in TABLES["annotations"] + TABLES["image_statuses"]})


def read_back(services: Services) -> dict[str, Any]:
    """Every record of the project as the stores give it back, in the fixture's terms."""
    store, reviews = services.store, services.reviews
    keys = sorted(RELEASE["images"])
    return {
        "shapes": {
            pair: [shape_facts(a) for a in store.annotations_for(*pair)]
            for pair in expected_shapes()
        },
        "statuses": {who: store.statuses_for(who) for who in people()},
        "counts": {
            (r["annotator"], r["batch"]): store.progress_counts(r["annotator"], r["batch"])
            for r in TABLES["status_counts"]
        },
        "events": [
            (
                e.id,
                as_text(e.at),
                e.actor,
                e.image_key,
                e.annotator,
                e.action,
                e.annotation_id,
                e.before,
                e.after,
                e.change,
                e.undoes,
            )
            for e in store.events()
        ],
        "seconds": store.active_times(),
        "reviews": {
            k: (r.status.value, r.reviewer, as_text(r.at))
            for k, r in reviews.reviews_under().items()
        },
        "comments": {
            k: [(c.id, c.author, as_text(c.at), c.text) for c in reviews.comments(k)]
            for k in keys
            if reviews.comments(k)
        },
        "rework": {
            k: [
                (w.annotator, w.requested_by, as_text(w.requested_at), w.comment, w.done_at)
                for w in reviews.rework_of(k)
            ]
            for k in keys
            if reviews.rework_of(k)
        },
        "open_rework": reviews.open_rework_keys("bob"),
        "disagreement": reviews.disagreement_of(),
        "settings": {
            r["name"]: services.app_settings.get(r["name"]) for r in TABLES["app_settings"]
        },
        "accounts": [(a.name, a.role.value, a.password_hash) for a in services.accounts.all()],
    }


def implied() -> dict[str, Any]:
    """What read_back should give, from the release's rows alone."""
    statuses: dict[str, dict[str, str]] = {who: {} for who in people()}
    for row in TABLES["image_statuses"]:
        statuses[row["annotator"]][row["image_key"]] = row["status"]
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for row in TABLES["status_counts"]:
        counts.setdefault((row["annotator"], row["batch"]), {})[row["status"]] = row["count"]
    return {
        "shapes": expected_shapes(),
        "statuses": statuses,
        "counts": counts,
        "events": [
            tuple(
                e[c]
                for c in (
                    "id",
                    "at",
                    "actor",
                    "image_key",
                    "annotator",
                    "action",
                    "annotation_id",
                    "before",
                    "after",
                    "change",
                    "undoes",
                )
            )
            for e in TABLES["events"]
        ],
        "seconds": {(r["image_key"], r["annotator"]): r["seconds"] for r in TABLES["active_times"]},
        "reviews": {
            r["image_key"]: (r["status"], r["reviewer"], r["updated_at"]) for r in TABLES["reviews"]
        },
        "comments": by_image("comments", "id", "author", "at", "text"),
        "rework": by_image(
            "rework", "annotator", "requested_by", "requested_at", "comment", "done_at"
        ),
        "open_rework": {
            r["image_key"]
            for r in TABLES["rework"]
            if r["annotator"] == "bob" and r["done_at"] is None
        },
        "disagreement": {r["image_key"]: r["score"] for r in TABLES["image_disagreement"]},
        "settings": {r["name"]: r["value"] for r in TABLES["app_settings"]},
        "accounts": [(r["name"], r["role"], r["password_hash"]) for r in TABLES["accounts"]],
    }


# ------------------------------------------------------------------ tests


def test_the_release_data_is_a_realistic_deployment() -> None:
    """The fixture holds what the other tests rely on (so none of them passes on nothing)."""
    assert RELEASE["revision"] == "0010"
    kinds = {r["kind"] for r in TABLES["annotations"]}
    assert kinds == {"rect", "polygon", "circle", "line", "path"}
    assert {r["status"] for r in TABLES["image_statuses"]} == {"done", "empty", "skipped"}
    actions = {e["action"] for e in TABLES["events"]}
    assert {"create", "edit", "delete", "status", "review", "rework", "comment"} <= actions
    assert any(e["undoes"] for e in TABLES["events"])
    who = {r["annotator"] for r in TABLES["annotations"]}
    assert who == {"alice", "bob", "gold", "model:nanodet"}
    assert {r["image_key"].split("/")[0] for r in TABLES["annotations"]} == {"street", "park"}
    assert {r["expires_at"] is None for r in TABLES["assignments"]} == {True, False}
    assert all(TABLES.values())  # every table of the release has rows
    assert FIXTURE.stat().st_size < 100_000


def test_the_deployment_becomes_the_default_project_with_the_environments_settings(
    upgraded: Services,
) -> None:
    projects = upgraded.projects.all()
    assert [(p.id, p.slug) for p in projects] == [(1, "default")]
    first = projects[0]
    assert first.open_to_all and first.members == ()
    assert (first.labels, first.image_source, first.annotators_per_image) == (None, None, None)
    assert (first.claim_minutes, first.repeat_percent, first.suggestions) == (None, None, None)
    assert upgraded.project.slug == "default"
    assert [label.name for label in upgraded.settings.labels] == RELEASE["labels"]
    assert upgraded.settings.image_source.endswith("images")
    # the admin's settings saved in the app hold as before: 2 per image, 45-minute claims
    assignments = upgraded.assignments
    assert assignments is not None and assignments.per_image == 2
    assert assignments.ttl.total_seconds() == 45 * 60
    assert current_revision(upgraded.store.engine) == head_revision()


def test_every_release_row_is_kept_as_it_was(upgraded: Services) -> None:
    assert dump(upgraded.store.engine) == TABLES


def test_every_record_reads_back_the_same_in_the_first_project(upgraded: Services) -> None:
    expected = implied()
    assert read_back(current()) == expected
    with project_scope("default"):
        assert current().project.slug == "default"
        assert read_back(current()) == expected
    # who holds which image: finished work, and a claim until it expires (carol's)
    keys = sorted(RELEASE["images"])
    now = utc_now()
    holders: dict[str, set[str]] = {key: set() for key in keys}
    for row in TABLES["assignments"]:
        if row["expires_at"] is None or parse_time(row["expires_at"]) > now:  # type: ignore[operator]
            holders[row["image_key"]].add(row["annotator"])
    for row in TABLES["image_statuses"]:
        if row["status"] in ("done", "empty") and row["annotator"] in ("alice", "bob"):
            holders[row["image_key"]].add(row["annotator"])
    assert current().assignments.holders_of(keys) == holders  # type: ignore[union-attr]
    assert holders["park/e.jpg"] == {"alice", "bob"}


def test_agreement_and_export_give_what_the_release_gave(upgraded: Services) -> None:
    expected = RELEASE["expected"]
    with project_scope("default"):
        data, _report, _accepted = agreement_data(current(), 0.5, False, lambda *_: None)
        assert data == expected["agreement"]  # the Agreement tab shows what it showed
        assert current().reviews.disagreement_of() == {
            r["image_key"]: r["score"] for r in TABLES["image_disagreement"]
        }
        for who, counts in expected["coco_export"].items():
            made = export_annotations(current(), "coco", annotator=who)
            coco = json.loads(made.content)
            assert (made.images, made.shapes) == (counts["images"], counts["shapes"]), who
            assert len(coco["annotations"]) == counts["shapes"]
    shapes_of: dict[str, int] = {}
    for row in TABLES["annotations"]:
        shapes_of[row["annotator"]] = shapes_of.get(row["annotator"], 0) + 1
    assert {who: c["shapes"] for who, c in expected["coco_export"].items()} == shapes_of


def test_work_goes_on_in_the_first_project_after_the_upgrade(upgraded: Services) -> None:
    """New events and comments get ids past the release's (its sequences carried over)."""
    now = utc_now()
    store = current().store
    kept = store.annotations_for("park/d.jpg", "bob")
    extra = Annotation("d-new", "park/d.jpg", "bob", "car", "rect", (1, 2, 30, 40), (), now, now)
    store.sync_image("park/d.jpg", "bob", [*kept, extra])
    comment = current().reviews.add_comment("park/d.jpg", "rita", "Looks right.")
    last_event = max(e["id"] for e in TABLES["events"])
    assert min(e.id for e in store.events() if e.annotation_id == "d-new") > last_event
    assert comment.id > max(c["id"] for c in TABLES["comments"])
    assert [a.id for a in store.annotations_for("park/d.jpg", "bob")] == ["d-poly", "d-new"]


def test_a_second_project_sees_none_of_the_first_ones_records(upgraded: Services) -> None:
    folder = upgraded.settings.image_root / "second"
    folder.mkdir(parents=True)
    Image.new("RGB", (320, 240), (10, 20, 30)).save(folder / "street-a.jpg")
    made = upgraded.projects.create(
        Project(0, "second", "Second project", image_source="second", open_to_all=True)
    )
    assert made.id == 2
    before = read_back(current())
    with project_scope("second"):
        second = current()
        assert second.project.slug == "second"
        assert second.settings.image_source == str(folder)
        assert second.store.annotators() == []
        assert second.store.events() == [] and second.store.active_times() == {}
        for pair in expected_shapes():
            assert second.store.annotations_for(*pair) == []
        assert all(second.store.statuses_for(who) == {} for who in people())
        assert second.reviews.reviews_under() == {} and second.reviews.disagreement_of() == {}
        assert second.reviews.comments("park/e.jpg") == []
        assert second.app_settings.get("annotators_per_image") is None
        assert second.assignments is None  # the environment's: everyone sees every image
        # accounts belong to the deployment, not to a project
        assert second.accounts.all() == upgraded.accounts.all()
        now = utc_now()
        same_id = Annotation(
            "a-rect", "street/a.jpg", "alice", "tree", "rect", (1, 1, 9, 9), (), now, now
        )
        second.store.sync_image("street/a.jpg", "alice", [same_id])
        assert [(a.id, a.label) for a in second.store.annotations_for("street/a.jpg", "alice")] == [
            ("a-rect", "tree")
        ]
        assert second.store.statuses_for("alice") == {"street/a.jpg": "done"}
    assert read_back(current()) == before  # the first project saw nothing of it
    with project_scope("default"):
        assert read_back(current()) == before


def test_upgrading_again_changes_nothing(upgraded: Services) -> None:
    engine = upgraded.store.engine
    again = upgrade(engine)
    assert not again.changed and again.after == head_revision()
    restarted = build_services(upgraded.settings, DictCache(), DictCache())
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            slugs = conn.execute(select(PROJECTS.c.slug, func.count()).group_by(PROJECTS.c.slug))
            assert dict(slugs.all()) == {"default": 1}
        assert dump(engine) == TABLES
        assert read_back(restarted) == implied()
    finally:
        restarted.store.engine.dispose()
