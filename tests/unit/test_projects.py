"""Projects: who may enter which, the validators, and a project's settings over the
environment's."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import load_settings
from domain.accounts import Role
from domain.labels import parse_labels
from domain.projects import (
    Member,
    Project,
    ProjectError,
    clean_image_source,
    clean_local_folder,
    clean_members,
    clean_slug,
    role_in,
)
from storage.runtime import project_settings

CLOSED = Project(2, "cats", "Cats", members=(Member("Alice", Role.REVIEWER),))
OPEN = Project(3, "open", "Open", open_to_all=True, members=(Member("bob", Role.ADMIN),))


def test_only_members_enter_a_closed_project_with_the_role_it_gives_them() -> None:
    assert role_in(CLOSED, "alice", Role.ANNOTATOR, True) == Role.REVIEWER  # names ignore case
    assert role_in(CLOSED, "carol", Role.REVIEWER, True) is None
    assert role_in(CLOSED, None, Role.ANNOTATOR, True) is None


def test_deployment_admins_and_local_mode_enter_every_project_as_admin() -> None:
    assert role_in(CLOSED, "root", Role.ADMIN, True) == Role.ADMIN
    assert role_in(CLOSED, None, Role.ANNOTATOR, False) == Role.ADMIN


def test_an_open_project_gives_everyone_their_own_role_or_a_higher_member_role() -> None:
    assert role_in(OPEN, "carol", Role.ANNOTATOR, True) == Role.ANNOTATOR
    assert role_in(OPEN, "dave", Role.REVIEWER, True) == Role.REVIEWER
    assert role_in(OPEN, "bob", Role.ANNOTATOR, True) == Role.ADMIN


@pytest.mark.parametrize("slug", ["cats", "street-scenes-2", "a", "x" * 40])
def test_good_slugs_are_kept(slug: str) -> None:
    assert clean_slug(f" {slug.upper()} ") == slug


@pytest.mark.parametrize("slug", ["", "-cats", "cats-", "two words", "x" * 41, "über", "a/b"])
def test_bad_slugs_are_refused_with_the_rule(slug: str) -> None:
    with pytest.raises(ProjectError, match="lower-case letters, digits and hyphens"):
        clean_slug(slug)


@pytest.mark.parametrize("folder", ["../etc", "a/../../b", "/etc", "C:/images", "  ", "./."])
def test_folders_outside_the_image_root_are_refused(folder: str) -> None:
    with pytest.raises(ProjectError):
        clean_local_folder(folder)


def test_folders_and_s3_sources_are_normalised() -> None:
    assert clean_image_source("cats//2024/./jpegs/") == "cats/2024/jpegs"
    assert clean_image_source("s3://bucket/cats") == "s3://bucket/cats"
    with pytest.raises(ProjectError, match="s3://bucket/prefix"):
        clean_image_source("s3:/bucket")


def test_members_must_be_known_accounts_listed_once() -> None:
    rows = [{"account": "ALICE", "role": "reviewer"}, {"account": "", "role": "admin"}]
    assert clean_members(rows, ["alice", "bob"]) == (Member("alice", Role.REVIEWER),)
    with pytest.raises(ProjectError, match="no account is called 'zed'"):
        clean_members([{"account": "zed"}], ["alice"])
    with pytest.raises(ProjectError, match="twice"):
        clean_members([{"account": "alice"}, {"account": "Alice"}], ["alice"])
    with pytest.raises(ProjectError, match="unknown role"):
        clean_members([{"account": "alice", "role": "boss"}], ["alice"])


def test_a_projects_own_settings_replace_the_environments(tmp_path: Path) -> None:
    base = load_settings({"DATA_DIR": str(tmp_path), "ANNOTATORS_PER_IMAGE": "3"})
    first = project_settings(base, Project(1, "default", "Default project"))
    assert first == base  # the first project leaves every setting to the environment
    cats = Project(
        2,
        "cats",
        "Cats",
        image_source="cats/jpegs",
        labels=parse_labels("cat,dog"),
        annotators_per_image=0,
        claim_minutes=5,
        repeat_percent=10,
        suggestions="off",
    )
    made = project_settings(base, cats)
    assert made.image_source == str(tmp_path / "images" / "cats" / "jpegs")
    assert not made.uses_sample_images
    assert [label.name for label in made.labels] == ["cat", "dog"]
    assert made.annotators_per_image is None  # 0: everyone sees every image
    assert (made.claim_minutes, made.repeat_percent, made.suggestions) == (5, 10, "off")
    assert made.data_dir == tmp_path / "projects" / "2"  # its trained heads are its own
    s3 = project_settings(base, Project(4, "s3", "S3", image_source="s3://bucket/p"))
    assert s3.image_source == "s3://bucket/p"
    assert s3.annotators_per_image == 3  # unset here: the environment's


def test_each_project_has_its_own_records_and_an_edit_reaches_current(tmp_path: Path) -> None:
    from dataclasses import replace

    from domain.annotation import Annotation, utc_now
    from storage.runtime import current, project_scope
    from tests.unit.callback_support import install_services

    services = install_services(tmp_path)
    (tmp_path / "data" / "images" / "cats").mkdir(parents=True)
    services.projects.create(Project(0, "cats", "Cats", image_source="cats"))
    now = utc_now()
    shape = Annotation("s1", "a.jpg", "ann", "person", "rect", (1, 2, 3, 4), (), now, now)
    with project_scope("cats"):
        assert current().project.slug == "cats"
        current().store.sync_image("a.jpg", "ann", [shape])
        assert [a.id for a in current().store.annotations_for("a.jpg", "ann")] == ["s1"]
    assert current().store.annotations_for("a.jpg", "ann") == []  # the first project's
    first = services.projects.first()
    services.projects.save(replace(first, labels=parse_labels("bird")), first.version)
    assert [label.name for label in current().settings.labels] == ["bird"]
    with pytest.raises(ProjectError, match="no project called 'dogs'"), project_scope("dogs"):
        current()


def test_the_list_read_before_serves_while_the_database_is_away(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from storage.errors import StorageError
    from storage.project_store import ProjectStore
    from tests.unit.callback_support import install_services

    services = install_services(tmp_path)
    store = ProjectStore(services.store.engine)
    assert [p.slug for p in store.all()] == ["default"]
    store.engine = create_engine(f"sqlite:///{tmp_path / 'gone' / 'away.db'}")
    store.forget_cached()
    assert [p.slug for p in store.all()] == ["default"]  # the request goes on
    with pytest.raises(StorageError):
        ProjectStore(store.engine).all()  # nothing read before: says why


def test_an_export_of_another_project_is_named_after_it(tmp_path: Path) -> None:
    from domain.annotation import Annotation
    from storage.runtime import current, project_scope
    from tests.unit.callback_support import install_services, make_batch
    from workflows.exchange import export_annotations

    make_batch(tmp_path / "images", [(40, 30)])
    services = install_services(tmp_path)
    make_batch(services.settings.image_root / "cats", [(40, 30)])
    services.projects.create(Project(0, "cats", "Cats", image_source="cats"))
    for slug in (None, "cats"):
        with project_scope(slug):
            box = Annotation("s1", "img01.jpg", "ann", "person", "rect", (1, 2, 30, 20))
            current().store.sync_image("img01.jpg", "ann", [box])
    assert export_annotations(current(), "csv").filename == "concord-csv-all.csv"
    with project_scope("cats"):
        assert export_annotations(current(), "csv").filename == "concord-cats-csv-all.csv"


def test_the_assignment_card_and_the_projects_card_set_the_same_values(tmp_path: Path) -> None:
    """The Image assignment card saves the project's own values and forgets the app
    settings an older release saved, which would otherwise win over the Projects card."""
    from callbacks import admin
    from storage.runtime import PER_IMAGE, assignment_setup, current
    from tests.unit.callback_support import call, install_services

    services = install_services(tmp_path)
    services.app_settings.put(PER_IMAGE, "3")  # as the release before projects saved it
    said, _ = call(admin.change_assignment, "admin-settings-save.n_clicks", 1, 2, 20, 5)
    assert "each image goes to 2 annotator(s)" in str(said.children)
    first = current().projects.first()
    assert (first.annotators_per_image, first.claim_minutes, first.repeat_percent) == (2, 20, 5)
    assert current().app_settings.get(PER_IMAGE) is None
    assert assignment_setup(current().settings, current().app_settings) == (2, 20)
