"""Accounts, roles and which role a callback needs: pure rules, no server."""

from __future__ import annotations

import pytest
from flask import Flask

from auth import web
from auth.directory import AccountDirectory, save_account
from auth.passwords import hash_password, password_matches
from auth.permissions import callback_ids, role_needed
from auth.throttle import SignInThrottle
from config import ConfigError, load_settings
from domain.accounts import (
    Account,
    Role,
    allows,
    parse_users_env,
    parse_users_toml,
    users_env_entry,
    users_toml,
)
from domain.errors import AccountError

HASH = hash_password("correct horse")


def test_roles_include_the_ones_below_them():
    assert allows(Role.ADMIN, Role.REVIEWER) and allows(Role.REVIEWER, Role.ANNOTATOR)
    assert not allows(Role.ANNOTATOR, Role.REVIEWER) and not allows(Role.REVIEWER, Role.ADMIN)


def test_a_users_file_round_trips_and_passwords_check_against_their_hash():
    accounts = (Account("Ana María", Role.ADMIN, HASH), Account('Bo "B"', Role.ANNOTATOR, HASH))
    assert parse_users_toml(users_toml(accounts)) == accounts
    assert password_matches(HASH, "correct horse")
    assert not password_matches(HASH, "Correct horse")
    assert not password_matches("md5$x$abc", "correct horse")


def test_users_env_entries_are_split_by_newlines_or_commas():
    text = f"ana:admin:{HASH}, bo:reviewer:{HASH}\ncy:annotator:{HASH}\n"
    assert [(a.name, a.role) for a in parse_users_env(text)] == [
        ("ana", Role.ADMIN),
        ("bo", Role.REVIEWER),
        ("cy", Role.ANNOTATOR),
    ]
    assert (
        parse_users_env(users_env_entry(Account("ana", Role.ADMIN, HASH)))[0].password_hash == HASH
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[[user]]\nname = "a"\nrole = "boss"\npassword_hash = "{h}"', "unknown role 'boss'"),
        ('[[user]]\nname = "a"\nrole = "admin"\npassword_hash = "hunter22"', "plain passwords"),
        ('[[user]]\nname = ""\nrole = "admin"\npassword_hash = "{h}"', "Enter your name"),
        ('[[user]]\nname = "a"\nrole = "admin"\npassword_hash = "{h}"\n' * 2, "listed twice"),
        ("[[user]\nname =", "not valid TOML"),
        ('user = "a"', "[[user]] table"),
    ],
)
def test_a_broken_users_file_is_refused_with_the_reason(text, says):
    with pytest.raises(AccountError, match=None) as caught:
        parse_users_toml(text.replace("{h}", HASH))
    assert says in str(caught.value)


def test_a_users_env_entry_without_three_parts_is_refused():
    with pytest.raises(AccountError, match="entry 2: write it as name:role:password-hash"):
        parse_users_env(f"ana:admin:{HASH},bo-admin")


def test_short_passwords_are_refused():
    with pytest.raises(AccountError, match="at least 8 characters"):
        hash_password("short")


def test_the_directory_picks_up_an_edited_file_and_keeps_accounts_when_an_edit_is_broken(
    tmp_path,
):
    users = tmp_path / "users.toml"
    save_account(users, Account("ana", Role.ANNOTATOR, HASH))
    directory = AccountDirectory(users)
    assert directory.enabled and directory.find("ana").role is Role.ANNOTATOR
    save_account(users, Account("ana", Role.REVIEWER, HASH))
    assert directory.find("ana").role is Role.REVIEWER
    users.write_text("[[user]\nbroken")
    assert directory.find("ana").role is Role.REVIEWER  # kept, and a warning is logged
    assert directory.find("nobody") is None


def test_a_missing_users_file_is_explained(tmp_path):
    with pytest.raises(AccountError, match="add-user"):
        AccountDirectory(tmp_path / "absent.toml")


def test_sign_in_needs_a_secret_key(tmp_path):
    users = tmp_path / "users.toml"
    save_account(users, Account("ana", Role.ADMIN, HASH))
    settings = load_settings({"USERS_FILE": str(users), "DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        web.install(Flask("t"), settings)
    assert not web.install(Flask("t"), load_settings({"DATA_DIR": str(tmp_path)})).enabled


def test_a_callback_needs_the_highest_role_of_the_components_it_touches():
    annotate = {
        "output": "..records-store.data@ab12...message.children@ab12..",
        "outputs": [{"id": "records-store", "property": "data@ab12"}],
        "inputs": [{"id": "graph", "property": "relayoutData", "value": {}}],
        "state": [{"id": {"type": "label-button", "index": "cat"}, "property": "n_clicks"}],
    }
    assert callback_ids(annotate) >= {"records-store", "graph", "message", "label-button"}
    assert role_needed(callback_ids(annotate)) is Role.ANNOTATOR
    review = {"output": "agreement-compare.children", "inputs": []}
    assert role_needed(callback_ids(review)) is Role.REVIEWER
    # Hiding a reviewer id among others does not lower what the request needs.
    mixed = {
        "output": "grid.rowData",
        "outputs": {"id": "grid", "property": "rowData"},
        "inputs": [[{"id": "import-upload", "property": "contents"}]],
    }
    assert role_needed(callback_ids(mixed)) is Role.ADMIN
    assert callback_ids("not a body") == set()


def test_failed_sign_ins_are_counted_per_name_and_per_address():
    throttle = SignInThrottle(per_name="3/minute", per_address="5/minute")
    for _ in range(3):
        assert throttle.wait_seconds("ana", "10.0.0.1") == 0
        throttle.failed("ana", "10.0.0.1")
    assert 0 < throttle.wait_seconds("ANA", "10.0.0.9") <= 60  # names compare caselessly
    assert throttle.wait_seconds("bo", "10.0.0.1") == 0
    throttle.failed("bo", "10.0.0.1")
    throttle.failed("cy", "10.0.0.1")
    assert throttle.wait_seconds("dee", "10.0.0.1") > 0  # the address reached its limit
    assert throttle.wait_seconds("dee", "10.0.0.2") == 0


def test_the_page_says_when_it_runs_without_sign_in():
    from components import ids
    from components.layout import build_layout
    from domain.accounts import Viewer
    from domain.labels import parse_labels

    labels = parse_labels("person")
    local = str(build_layout(labels))
    assert "Local mode: no sign-in" in local and ids.NAME_MODAL in local
    signed = str(build_layout(labels, Viewer("ana", Role.REVIEWER, True)))
    assert "Signed in as ana · reviewer" in signed and "Local mode" not in signed
    assert ids.NAME_MODAL not in signed and ids.TAB_ADMIN not in signed
