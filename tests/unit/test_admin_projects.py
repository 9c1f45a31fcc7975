"""The Admin tab's Projects card: what it lists, what the form shows, and saving (make,
change, a stale change refused, bad input explained), for global and project admins."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import flask
import pytest
from dash.exceptions import PreventUpdate

import auth.session
import callbacks.admin_projects as module
from auth.passwords import hash_password
from callbacks.admin_projects import (
    add_member,
    fill_form,
    project_form,
    save_project,
    show_projects,
)
from components import ids
from components.admin_projects import (
    NEW,
    form_values,
    members_text,
    pick_options,
    projects_table,
)
from domain.accounts import Account, Role
from domain.labels import Label
from domain.projects import Member, Project
from storage.runtime import Services
from tests.unit.callback_support import call, install_services

HASH = hash_password("long enough password")
USERS = ",".join(
    f"{n}:{r}:{HASH}" for n, r in (("alice", "annotator"), ("bob", "annotator"), ("ada", "admin"))
)
CHANGED = f"{ids.ADMIN_PROJECT_CHANGED}.data"
SAVE = f"{ids.ADMIN_PROJECT_SAVE}.n_clicks"
TAB = f"{ids.TABS}.active_tab"
CATS = Project(
    2,
    "cats",
    "Cats",
    image_source="cats",
    labels=(Label("cat", "#E69F00"), Label("dog", "#56B4E9")),
    annotators_per_image=0,
    claim_minutes=20,
    repeat_percent=5,
    suggestions="off",
    members=(Member("alice", Role.ANNOTATOR),),
    version=3,
)


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return install_services(tmp_path, USERS=USERS)


def values(
    name: str = "Cats",
    slug: str = "cats",
    source: str = "cats",
    labels: str = "cat, dog",
    per_image: Any = None,
    claim: Any = None,
    repeats: Any = None,
    suggestions: str = "",
    open_to_all: bool = False,
    members_upload: bool = False,
    members: tuple[tuple[str, str], ...] = (("alice", "annotator"), ("", "annotator")),
) -> list[Any]:
    """The save callback's form States, after the pick and the version."""
    accounts = [account for account, _ in members]
    roles = [role for _, role in members]
    flags = [open_to_all, members_upload]
    return [name, slug, source, labels, per_image, claim, repeats, suggestions, *flags] + [
        accounts,
        roles,
    ]


def saved(pick: str, version: Any, *form: Any) -> tuple[str, Any]:
    result, changed = call(save_project, SAVE, 1, pick, version, *form)
    return " ".join(str(result.children).split()), changed


def signed_in_as(monkeypatch: pytest.MonkeyPatch, account: Account) -> None:
    """Sign-in on, and the session's account is this one."""
    monkeypatch.setattr(auth.session, "_directory", SimpleNamespace(enabled=True))
    monkeypatch.setattr(auth.session, "signed_in_account", lambda: account)
    monkeypatch.setattr(module, "signed_in_account", lambda: account)


# --- pure parts


def test_the_form_sends_member_rows_side_by_side_and_open_as_a_flag() -> None:
    form = project_form(
        "Cats",
        "cats",
        "cats",
        "cat,dog",
        2,
        30,
        0,
        "on",
        [True],
        True,
        ["alice", None],
        ["reviewer", None],
    )
    assert form["members"] == [
        {"account": "alice", "role": "reviewer"},
        {"account": "", "role": "annotator"},
    ]
    assert form["open_to_all"] is True and form["members_upload"] is True
    assert form["annotators_per_image"] == 2 and form["suggestions"] == "on"


def test_a_new_project_is_offered_only_to_global_admins() -> None:
    assert pick_options([CATS], True) == [
        {"label": "New project", "value": NEW},
        {"label": "Cats (cats)", "value": "cats"},
    ]
    assert pick_options([CATS], False) == [{"label": "Cats (cats)", "value": "cats"}]


def test_the_form_shows_a_projects_values_with_its_slug_locked() -> None:
    name, slug, locked, source, labels, per_image, claim, repeats, mode, open_, upload, *rest = (
        form_values(CATS)
    )
    rows, version = rest
    assert (name, slug, locked, source, labels) == ("Cats", "cats", True, "cats", "cat, dog")
    assert (per_image, claim, repeats, mode, open_, version) == (0, 20, 5, "off", False, 3)
    assert upload is False
    assert "alice" in str(rows) and len(rows) == 2  # alice, then a spare row


def test_a_new_form_is_blank_with_its_slug_editable() -> None:
    name, slug, locked, source, labels, *_rest, rows, version = form_values(None)
    assert (name, slug, locked, source, labels, version) == ("", "", False, "", "", None)
    assert len(rows) == 3


def test_the_list_says_who_works_in_each_project() -> None:
    assert members_text(CATS) == "alice (annotator)"
    assert members_text(Project(3, "all", "All", open_to_all=True)) == "every account"
    table = str(projects_table([CATS]))
    assert "Cats" in table and "cat, dog" in table and "alice (annotator)" in table


# --- callbacks, in local mode (everyone is a global admin)


def test_an_admin_makes_a_project_and_the_list_then_shows_and_picks_it(
    services: Services,
) -> None:
    text, changed = saved(NEW, None, *values())

    assert text == "Made project Cats (cats); its address is /?project=cats."
    cats = services.projects.find("cats")
    assert cats is not None
    assert [label.name for label in cats.labels or ()] == ["cat", "dog"]
    assert cats.members == (Member("alice", Role.ANNOTATOR),)
    assert not cats.open_to_all
    assert (services.settings.image_root / "cats").is_dir()

    table, options, chosen, accounts = call(show_projects, CHANGED, ids.TAB_ADMIN, changed, NEW)
    assert chosen == "cats"
    assert [o["value"] for o in options] == [NEW, "default", "cats"]
    assert "alice (annotator)" in str(table)
    assert {option.value for option in accounts} == {"alice", "bob", "ada"}


def test_picking_a_project_fills_the_form_and_saving_changes_it(services: Services) -> None:
    saved(NEW, None, *values())
    form = call(fill_form, f"{ids.ADMIN_PROJECT_PICK}.value", "cats")
    assert form[0] == "Cats" and form[2] is True and form[-1] == 1

    text, _ = saved("cats", 1, *values(name="Cats and dogs", members=(("bob", "reviewer"),)))

    assert text == "Changed project Cats and dogs (cats); its address is /?project=cats."
    cats = services.projects.find("cats")
    assert cats is not None and cats.version == 2
    assert cats.members == (Member("bob", Role.REVIEWER),)
    assert not cats.members_upload
    saved("cats", 2, *values(members_upload=True))
    cats = services.projects.find("cats")
    assert cats is not None and cats.members_upload  # members may upload now


def test_a_stale_change_is_refused_with_a_clear_message(services: Services) -> None:
    saved(NEW, None, *values())
    saved("cats", 1, *values(name="First edit"))

    text, changed = saved("cats", 1, *values(name="Second edit, from an old form"))

    assert "Not saved" in text and "changed by someone else meanwhile" in text
    assert changed is module.no_update
    assert services.projects.find("cats").name == "First edit"  # type: ignore[union-attr]
    unloaded, _ = saved("cats", None, *values(name="A form never filled"))
    assert unloaded == "Not saved: pick project 'cats' again before changing it."


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        (values(slug="Big Cats"), "project slug 'big cats' cannot be used"),
        (values(source="../outside"), "leaves the image root"),
        (values(labels=""), "a project needs at least one label"),
        (values(members=(("mallory", "annotator"),)), "no account is called 'mallory'"),
        (values(claim=0), "claim minutes must be between 1 and 1440"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_made(
    services: Services, form: list[Any], reason: str
) -> None:
    text, _ = saved(NEW, None, *form)

    assert text.startswith("Not saved:") and reason in text, text
    assert [p.slug for p in services.projects.all()] == ["default"]


def test_a_taken_slug_is_refused(services: Services) -> None:
    saved(NEW, None, *values())

    text, _ = saved(NEW, None, *values(name="Other cats"))

    assert text == "Not saved: a project called 'cats' exists already."


def test_a_member_row_is_added_after_the_last_one(services: Services) -> None:
    rows = [{"type": ids.ADMIN_PROJECT_MEMBER_ACCOUNT, "index": n} for n in (0, 1, 4)]

    patch = call(add_member, f"{ids.ADMIN_PROJECT_ADD_MEMBER}.n_clicks", 1, rows)

    [operation] = patch.to_plotly_json()["operations"]
    assert operation["operation"] == "Append"
    assert operation["params"]["value"].children[0].children.id["index"] == 5


# --- callbacks, with sign-in on


def test_a_project_admin_sees_and_changes_only_their_projects_and_makes_none(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved(NEW, None, *values(members=(("bob", "admin"),)))
    saved(NEW, None, *values(name="Birds", slug="birds", source="birds", members=()))
    signed_in_as(monkeypatch, Account("bob", Role.ANNOTATOR, "x"))

    with flask.Flask("probe").test_request_context("/_dash-update-component", method="POST"):
        flask.g.concord_project_role = Role.ADMIN  # the page is in cats, where bob is admin
        table, options, chosen, _ = call(show_projects, TAB, ids.TAB_ADMIN, None, NEW)
        made, _ = saved(NEW, None, *values(name="Dogs", slug="dogs", source="dogs"))
        other, _ = saved("birds", 1, *values(name="Birds of bob", slug="birds"))
        mine, _ = saved("cats", 1, *values(name="Bob's cats", members=(("bob", "admin"),)))

    assert options == [{"label": "Cats (cats)", "value": "cats"}] and chosen == "cats"
    assert "Birds" not in str(table)
    assert made == "Not saved: only an admin of the whole deployment may make projects."
    assert other == "Not saved: you may not change project 'birds'."
    assert mine.startswith("Changed project Bob's cats")
    assert services.projects.find("dogs") is None


def test_a_global_admin_sees_every_project(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved(NEW, None, *values(members=()))
    signed_in_as(monkeypatch, Account("ada", Role.ADMIN, "x"))

    with flask.Flask("probe").test_request_context("/_dash-update-component", method="POST"):
        flask.g.concord_project_role = Role.ADMIN
        _, options, _, _ = call(show_projects, TAB, ids.TAB_ADMIN, None, NEW)

    assert [o["value"] for o in options] == [NEW, "default", "cats"]


def test_someone_who_is_not_an_admin_here_gets_nothing(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in_as(monkeypatch, Account("alice", Role.ANNOTATOR, "x"))

    with flask.Flask("probe").test_request_context("/_dash-update-component", method="POST"):
        flask.g.concord_project_role = Role.ANNOTATOR
        with pytest.raises(PreventUpdate):
            call(show_projects, TAB, ids.TAB_ADMIN, None, NEW)
        with pytest.raises(PreventUpdate):
            call(save_project, SAVE, 1, NEW, None, *values())

    assert services.projects.find("cats") is None
