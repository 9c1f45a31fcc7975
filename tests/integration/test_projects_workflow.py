"""workflows/projects.py, the use case behind `cli.py projects create` and the Admin tab:
a project is made whole or not at all, and a change keeps what the form leaves out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config import load_settings
from domain.accounts import Role
from domain.labels import Label
from domain.projects import Member, ProjectError
from storage.errors import StorageError
from storage.runtime import Services, build_services
from workflows import projects
from workflows.projects import create_project, update_project

FORM = {"slug": "street", "name": "Street", "image_source": "city/street", "labels": "car,bike"}


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    (tmp_path / "images").mkdir()
    env = {
        "DATA_DIR": str(tmp_path),
        "LABELS": "car,bike",
        "IMAGE_SOURCE": str(tmp_path / "images"),
    }
    built = build_services(load_settings(env))
    yield built
    built.store.engine.dispose()


def test_a_project_whose_space_cannot_be_made_is_undone(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(_engine: object, _project_id: int) -> None:
        raise StorageError("cannot bring the database schema up to date: disk full")

    monkeypatch.setattr(projects, "prepare_space", fails)

    with pytest.raises(StorageError, match="disk full"):
        create_project(services, FORM)

    assert [p.slug for p in services.projects.all()] == ["default"]
    assert not (tmp_path / "images" / "city").exists()  # the folders it made are gone
    monkeypatch.undo()
    made = create_project(services, FORM)  # the slug is free again
    assert made.slug == "street" and (tmp_path / "images" / "city" / "street").is_dir()


def test_a_new_project_takes_the_environments_values_and_known_members(
    services: Services,
) -> None:
    form = {**FORM, "members": [{"account": "Alice", "role": "reviewer"}], "claim_minutes": ""}

    made = create_project(services, form, known=["alice", "bob"])

    assert made.members == (Member("alice", Role.REVIEWER),)
    assert (made.claim_minutes, made.repeat_percent, made.annotators_per_image) == (30, 0, 0)
    assert made.suggestions == "auto"
    assert services.projects.find("street") == made
    with pytest.raises(ProjectError, match="no account is called 'carol'"):
        create_project(
            services, {**FORM, "slug": "other", "members": [{"account": "carol"}]}, ["alice"]
        )


def test_a_change_keeps_labels_settings_and_refuses_a_stale_version(services: Services) -> None:
    made = create_project(services, {**FORM, "labels": [Label("car", "#123456", "c"), "bike"]})
    car, bike = made.labels or ()

    changed = update_project(services, "street", {"labels": "bike,truck", "name": "Lanes"}, 1)

    assert changed.name == "Lanes" and changed.version == 2
    assert changed.claim_minutes == made.claim_minutes  # not in the form: unchanged
    assert changed.labels is not None
    assert [(x.name, x.retired) for x in changed.labels] == [
        ("bike", False),
        ("truck", False),
        ("car", True),  # kept for its shapes, offered no more
    ]
    assert changed.labels[0] == bike and changed.labels[2].hotkey == "c" == car.hotkey
    assert changed.labels[1].color not in {car.color, bike.color}
    with pytest.raises(ProjectError, match="changed by someone else"):
        update_project(services, "street", {"name": "Late"}, 1)
    with pytest.raises(ProjectError, match="slug cannot be changed"):
        update_project(services, "street", {"slug": "avenue"}, 2)


def test_the_first_project_follows_the_environment_where_the_form_is_blank(
    services: Services,
) -> None:
    set_once = update_project(services, "default", {"claim_minutes": "5", "labels": "car"}, None)
    blank = update_project(services, "default", {"claim_minutes": "", "labels": ""}, None)

    assert set_once.claim_minutes == 5
    assert set_once.labels is not None and [x.retired for x in set_once.labels] == [False, True]
    assert (blank.claim_minutes, blank.labels) == (None, None)
