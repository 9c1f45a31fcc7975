"""Schema migrations on SQLite and PostgreSQL: a fresh database, one made before
migrations existed, the command line, and the migrations agreeing with storage/schema.py."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from domain.annotation import Annotation
from storage.annotation_store import AnnotationStore, make_engine
from storage.migrate import current_revision, head_revision, upgrade
from storage.schema import metadata
from tests.servers import ROOT

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_a_fresh_database_is_migrated_to_the_newest_revision(database_url):
    engine = make_engine(database_url)
    first = upgrade(engine)
    assert first.before is None and first.after == head_revision()
    assert current_revision(engine) == head_revision()
    assert not upgrade(engine).changed  # a second run changes nothing
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []  # the migrations build exactly the tables the code uses
    engine.dispose()


def test_a_database_made_before_migrations_keeps_its_shapes(database_url):
    engine = make_engine(database_url)
    with engine.begin() as conn:  # the tables as older versions created them, no index
        conn.execute(
            text(
                "CREATE TABLE annotations (id VARCHAR(64) PRIMARY KEY, image_key VARCHAR(1024) "
                "NOT NULL, annotator VARCHAR(64) NOT NULL, label VARCHAR(128) NOT NULL, kind "
                "VARCHAR(16) NOT NULL, geometry JSON NOT NULL, created_at TIMESTAMP WITH TIME "
                "ZONE NOT NULL, updated_at TIMESTAMP WITH TIME ZONE NOT NULL, source VARCHAR(16) "
                "NOT NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO annotations VALUES ('old-1', 'a.jpg', 'ann', 'person', 'rect', "
                "'{\"coords\": [1, 2, 30, 40], \"points\": []}', :t, :t, 'human')"
            ),
            {"t": T0},
        )
    store = AnnotationStore.from_url(database_url)
    [kept] = store.annotations_for("a.jpg", "ann")
    assert (kept.id, kept.coords) == ("old-1", (1.0, 2.0, 30.0, 40.0))
    assert current_revision(store.engine) == head_revision()
    assert "ix_annotations_annotator" in {
        i["name"] for i in inspect(store.engine).get_indexes("annotations")
    }
    new = Annotation("new-1", "a.jpg", "ann", "car", "rect", (5, 5, 9, 9), (), T0, T0)
    store.sync_image("a.jpg", "ann", [kept, new])
    assert sorted(a.id for a in store.annotations_for("a.jpg", "ann")) == ["new-1", "old-1"]
    store.engine.dispose()
    engine.dispose()


def test_cli_migrate_reports_the_revision(tmp_path, postgres_database_url):
    for url in (f"sqlite:///{tmp_path / 'cli.db'}", postgres_database_url):
        env = {"DATABASE_URL": url, "DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
        run = subprocess.run(
            [sys.executable, "cli.py", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines() == [
            f"database migrated to revision {head_revision()} (newest)",
            f"project default (id 1): at revision {head_revision()}, in the main database",
        ]
        again = subprocess.run(
            [sys.executable, "cli.py", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert again.stdout.splitlines()[0] == (
            f"database already at revision {head_revision()} (newest)"
        )


def test_workers_starting_together_migrate_one_at_a_time(postgres_database_url):
    from concurrent.futures import ThreadPoolExecutor

    engines = [make_engine(postgres_database_url) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(upgrade, engines))
    assert sum(r.changed for r in results) == 1  # the others found it done
    assert {r.after for r in results} == {head_revision()}
    for engine in engines:
        engine.dispose()
