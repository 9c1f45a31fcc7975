"""The SQLite file under the app: deleted, replaced, missing at start or unwritable, it is
noticed and said, never silently swapped for an empty one (issue 16, points 7 and 17)."""

from __future__ import annotations

import importlib
import logging
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from callbacks import annotations, navigation
from config import load_settings
from deploy_guard import guard_start
from storage.annotation_store import AnnotationStore
from storage.database_file import one_process_at_a_time
from storage.errors import StorageError
from storage.images import batch_of
from storage.runtime import build_services, current, install
from tests.unit.callback_support import DictCache, call, install_services, make_batch

RECT = {"type": "rect", "x0": 10, "y0": 20, "x1": 110, "y1": 80, "label": {"text": "person"}}


def settings_for(tmp_path: Path):
    return load_settings(
        {"DATA_DIR": str(tmp_path / "data"), "IMAGE_SOURCE": str(tmp_path / "images")}
    )


@pytest.fixture()
def client(tmp_path, monkeypatch):
    """The app's Flask test client, on services over tmp_path's data folder."""
    make_batch(tmp_path / "images", [(400, 300)])
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IMAGE_SOURCE", str(tmp_path / "images"))
    app = importlib.import_module("app")
    services = install_services(tmp_path)
    yield app.server.test_client()
    services.store.engine.dispose()


def open_image() -> tuple[dict, dict]:
    """The image view and alice's loaded records, as the annotate page holds them."""
    at = {"batch": batch_of("img01.jpg"), "key": "img01.jpg", "index": None}
    image, _text = call(navigation.show_image, "position-store.data", at)
    return image, call(annotations.load_records, "image-store.data", image, "alice", None)


def draw(image: dict, records: dict):
    """Draw RECT on the open image; the callback's outputs (records, message...)."""
    return call(
        annotations.on_figure_change,
        "graph.relayoutData",
        {"shapes": [RECT]},
        records,
        image,
        "alice",
        "person",
    )


def test_a_database_deleted_while_the_app_runs_fails_saves_and_health(client, tmp_path):
    assert client.get("/healthz").status_code == 200
    image, records = open_image()
    database = tmp_path / "data" / "annotations.db"
    assert database.exists()
    database.unlink()  # `rm data/annotations.db` while the app runs

    data, text, is_open, _color = draw(image, records)

    assert data["unsaved"] is True and len(data["items"]) == 1  # kept in the browser
    assert f"the database file {database} was deleted or replaced" in data["error"]
    assert "nothing was saved" in data["error"]
    health = client.get("/healthz")
    assert health.status_code == 503
    reason = health.get_data(as_text=True)
    assert "deleted or replaced while the app ran" in reason
    assert str(tmp_path) not in reason  # an open route names no folder
    assert not database.exists()  # no empty database slipped in under the same name


def test_a_new_connection_after_the_deletion_makes_no_empty_database(client, tmp_path):
    image, records = open_image()
    database = tmp_path / "data" / "annotations.db"
    database.unlink()
    current().store.engine.dispose()  # pooled connections gone: the next save connects anew

    data = draw(image, records)[0]

    assert data["unsaved"] is True and "was deleted or replaced" in data["error"]
    assert not database.exists()  # SQLite was not asked to open (and so make) the path


def test_a_database_replaced_under_the_app_is_noticed(client, tmp_path):
    image, records = open_image()
    database = tmp_path / "data" / "annotations.db"
    database.rename(tmp_path / "moved.db")
    database.write_bytes((tmp_path / "moved.db").read_bytes())  # another file, same name

    data = draw(image, records)[0]

    assert data["unsaved"] is True and "deleted or replaced" in data["error"]
    assert client.get("/healthz").status_code == 503


def test_health_answers_ok_while_the_database_is_there(client):
    response = client.get("/healthz")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok")


def test_a_restart_over_a_deleted_database_is_refused(tmp_path):
    make_batch(tmp_path / "images", [(400, 300)])
    first = build_services(settings_for(tmp_path), DictCache(), DictCache())
    first.store.sync_image("img01.jpg", "alice", [])
    first.store.engine.dispose()
    database = tmp_path / "data" / "annotations.db"
    database.unlink()

    with pytest.raises(StorageError) as refused:
        build_services(settings_for(tmp_path), DictCache(), DictCache())

    message = str(refused.value)
    assert str(database) in message and "missing" in message
    assert "restore" in message.lower() and "annotations.db.created" in message
    assert not database.exists()  # nothing empty was made in its place


def test_deleting_the_marker_starts_afresh_on_purpose(tmp_path, caplog):
    make_batch(tmp_path / "images", [(400, 300)])
    build_services(settings_for(tmp_path), DictCache(), DictCache()).store.engine.dispose()
    database = tmp_path / "data" / "annotations.db"
    database.unlink()
    (tmp_path / "data" / "annotations.db.created").unlink()

    with caplog.at_level(logging.WARNING):
        guard_start(settings_for(tmp_path))
        services = build_services(settings_for(tmp_path), DictCache(), DictCache())
    services.store.engine.dispose()
    assert database.exists()
    assert f"starting with a new, empty database at {database}" in caplog.text


def test_first_start_on_a_fresh_data_folder_works_and_says_it_makes_the_database(tmp_path, caplog):
    make_batch(tmp_path / "images", [(400, 300)])
    with caplog.at_level(logging.WARNING):
        guard_start(settings_for(tmp_path))  # what `python app.py` and gunicorn run first
        services = install(build_services(settings_for(tmp_path), DictCache(), DictCache()))
    database = tmp_path / "data" / "annotations.db"
    assert f"starting with a new, empty database at {database}" in caplog.text
    assert (tmp_path / "data" / "annotations.db.created").exists()
    data = draw(*open_image())[0]
    assert data["unsaved"] is False
    assert len(services.store.annotations_for("img01.jpg", "alice")) == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # the next start opens it quietly
        guard_start(settings_for(tmp_path))
        build_services(settings_for(tmp_path), DictCache(), DictCache()).store.engine.dispose()
    assert caplog.text == ""
    services.store.engine.dispose()


def test_workers_starting_together_wait_while_one_makes_the_database(tmp_path):
    """gunicorn's workers start at once; on a new data folder one makes the database file
    and switches it to WAL while the others wait. (Unordered, a worker that found no file
    made one too and could connect as the first one locked it: 'database is locked', the
    worker failed to boot and gunicorn stopped.)"""
    database = tmp_path / "annotations.db"
    opened: dict[str, object] = {}

    def start_worker() -> None:
        try:
            opened["store"] = AnnotationStore.from_url(f"sqlite:///{database}")
        except StorageError as exc:
            opened["error"] = exc

    with one_process_at_a_time(database):  # another worker is making the database
        worker = threading.Thread(target=start_worker)
        worker.start()
        worker.join(1.5)
        assert worker.is_alive() and not opened
        assert not database.exists(), "the starting worker made a database of its own"
        maker = sqlite3.connect(database)
        maker.execute("PRAGMA journal_mode=WAL")
        maker.close()
    worker.join(30)
    assert "error" not in opened, opened.get("error")
    store = opened["store"]
    assert isinstance(store, AnnotationStore)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.engine.dispose()


def test_a_database_made_before_the_marker_existed_is_adopted(tmp_path):
    url = f"sqlite:///{tmp_path / 'annotations.db'}"
    AnnotationStore.from_url(url).engine.dispose()
    (tmp_path / "annotations.db.created").unlink()  # as an older Concord left it

    AnnotationStore.from_url(url).engine.dispose()

    assert (tmp_path / "annotations.db.created").exists()


@pytest.mark.parametrize("which", ["annotations.db", "annotations.db-wal", "annotations.db-shm"])
def test_a_read_only_database_file_is_refused_at_start(tmp_path, monkeypatch, which):
    url = f"sqlite:///{tmp_path / 'annotations.db'}"
    AnnotationStore.from_url(url).engine.dispose()
    target = tmp_path / which
    target.touch()  # -wal/-shm left behind, e.g. by a process run as another user
    target.chmod(0o444)
    if os.geteuid() == 0:
        # root may write a read-only file, so chmod alone does not bite here: make the
        # permission check see what any other user would.
        real_access = os.access

        def access(path, mode, **kwargs):
            if Path(path) == target and mode & os.W_OK:
                return False
            return real_access(path, mode, **kwargs)

        monkeypatch.setattr(os, "access", access)

    with pytest.raises(StorageError) as refused:
        AnnotationStore.from_url(url)

    assert f"cannot write {target}" in str(refused.value)


def test_a_read_only_database_folder_is_refused_at_start(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:
        real_access = os.access
        monkeypatch.setattr(
            os,
            "access",
            lambda path, mode, **kw: (
                False if Path(path) == folder and mode & os.W_OK else real_access(path, mode, **kw)
            ),
        )
    try:
        with pytest.raises(StorageError) as refused:
            AnnotationStore.from_url(f"sqlite:///{folder / 'annotations.db'}")
    finally:
        folder.chmod(0o755)
    assert f"cannot write {folder}" in str(refused.value)


def test_a_write_ahead_log_left_by_a_deleted_database_is_refused(tmp_path):
    database = tmp_path / "annotations.db"
    (tmp_path / "annotations.db-wal").write_bytes(b"frames of the deleted database")

    with pytest.raises(StorageError) as refused:
        AnnotationStore.from_url(f"sqlite:///{database}")

    assert f"{database}-wal is still there" in str(refused.value)
    assert not database.exists()
