"""Start-up guard: an app reachable beyond this machine with no accounts is refused unless
ALLOW_NO_SIGN_IN says so (issue 16, point 8); a missing database is refused before start."""

from __future__ import annotations

import logging

import pytest

from config import load_settings
from deploy_guard import app_binds, exposure_problem, exposure_warning, guard_start

OPEN = {"ALLOW_NO_SIGN_IN": "1"}
ACCOUNTS = {"USERS": "ann:annotator:pbkdf2:sha256:1$salt$hash", "SECRET_KEY": "x" * 32}


@pytest.mark.parametrize(
    "binds",
    [
        ["0.0.0.0:8000"],
        ["[::]:8000"],
        ["192.168.1.20:8050"],
        [":8000"],
        ["example.org:80"],
        ["unix:/run/concord.sock"],
        ["127.0.0.1:8000", "0.0.0.0:8001"],
    ],
)
def test_listening_beyond_loopback_without_accounts_is_refused(binds):
    problem = exposure_problem(binds, load_settings({}))
    assert problem is not None
    assert binds[-1] in problem and "no accounts" in problem
    assert "USERS_FILE or USERS" in problem and "ALLOW_NO_SIGN_IN=1" in problem


@pytest.mark.parametrize(
    "binds", [["127.0.0.1:8050"], ["localhost:8000"], ["[::1]:8000"], ["127.0.0.2:80"]]
)
def test_loopback_without_accounts_starts_quietly(binds):
    settings = load_settings({})
    assert exposure_problem(binds, settings) is None
    assert exposure_warning(binds, settings) is None


def test_accounts_make_any_address_fine():
    settings = load_settings(ACCOUNTS)
    assert exposure_problem(["0.0.0.0:8000"], settings) is None
    assert exposure_warning(["0.0.0.0:8000"], settings) is None


def test_allow_no_sign_in_lets_it_start_with_a_warning():
    settings = load_settings(OPEN)
    assert exposure_problem(["0.0.0.0:8000"], settings) is None
    warning = exposure_warning(["0.0.0.0:8000"], settings)
    assert warning is not None and "ALLOW_NO_SIGN_IN=1" in warning and "0.0.0.0:8000" in warning


def test_a_proxy_in_front_of_loopback_counts_as_open():
    problem = exposure_problem(["127.0.0.1:8050"], load_settings({"PROXY_HOPS": "1"}))
    assert problem is not None and "PROXY_HOPS=1" in problem


def test_the_app_binds_come_from_host_and_port():
    assert app_binds(load_settings({"HOST": "0.0.0.0", "PORT": "9000"})) == ["0.0.0.0:9000"]
    assert app_binds(load_settings({"HOST": "::", "PORT": "9000"})) == ["[::]:9000"]


def test_guard_start_exits_with_the_message(tmp_path, caplog):
    settings = load_settings({"DATA_DIR": str(tmp_path), "HOST": "0.0.0.0"})
    with caplog.at_level(logging.WARNING), pytest.raises(SystemExit) as stopped:
        guard_start(settings)
    assert stopped.value.code == 1
    assert "ALLOW_NO_SIGN_IN=1" in caplog.text and "0.0.0.0:8050" in caplog.text


def test_guard_start_refuses_a_missing_database_before_anything_is_made(tmp_path, caplog):
    (tmp_path / "annotations.db.created").write_text("Concord kept its database here\n")
    settings = load_settings({"DATA_DIR": str(tmp_path)})
    with caplog.at_level(logging.WARNING), pytest.raises(SystemExit):
        guard_start(settings)
    assert f"the database file {tmp_path / 'annotations.db'} is missing" in caplog.text
    assert not (tmp_path / "annotations.db").exists()


def test_guard_start_lets_the_embedded_default_through(tmp_path, caplog):
    fresh = tmp_path / "not" / "made" / "yet"  # the README's first run: no data folder
    with caplog.at_level(logging.WARNING):
        guard_start(load_settings({"DATA_DIR": str(fresh)}))
    (only,) = caplog.records  # no refusal: just the note that a database will be made
    assert only.getMessage().startswith(f"no database at {fresh / 'annotations.db'} yet")
