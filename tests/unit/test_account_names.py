"""Account names that would be read as something else are refused wherever an account is
made: `ann#repeat` is ann's second pass, `model:x` a detector, ':' splits USERS entries."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask

from auth import web
from auth.passwords import hash_password
from cli import main
from config import ConfigError, load_settings
from domain.accounts import account_name, parse_users_env, parse_users_toml, users_toml
from domain.errors import AccountError

HASH = hash_password("correct horse")

REFUSED = {
    "ann#repeat": "'#'",
    "ann#2": "'#'",
    "a:b": "':'",
    "model:nanodet": "'model:'",
    "Model:yolo": "'model:'",
    "gold": "reserved",
    "Gold": "reserved",
    " ann": "starts or ends with a space",
    "ann ": "starts or ends with a space",
    "ann  lee": "extra spaces",
    "ann\tlee": "U+0009",
    "ann\nlee": "U+000A",
    "ann\x00": "U+0000",
    "ann\x7f": "U+007F",
    "ann\u200blee": "U+200B",
    "": "Enter your name",
}


@pytest.mark.parametrize("name", REFUSED)
def test_reserved_names_are_refused_saying_why(name):
    with pytest.raises(AccountError, match=re.escape(REFUSED[name])):
        account_name(name)


@pytest.mark.parametrize("name", ["ann", "Ana María", 'Bo "B"', "goldie", "x.model", "o'neil"])
def test_ordinary_names_pass(name):
    assert account_name(name) == name


def test_a_users_file_with_a_reserved_name_stops_the_app_naming_it(tmp_path):
    users = tmp_path / "users.toml"
    entry = '[[user]]\nname = "{}"\nrole = "annotator"\npassword_hash = "{}"\n'
    users.write_text(entry.format("ann", HASH) + entry.format("ann#repeat", HASH))
    settings = load_settings(
        {"USERS_FILE": str(users), "SECRET_KEY": "k" * 32, "DATA_DIR": str(tmp_path)}
    )
    with pytest.raises(ConfigError, match=r"account 2: the name 'ann#repeat' contains '#'"):
        web.install(Flask("t"), settings)


def test_users_entries_with_reserved_names_are_refused():
    with pytest.raises(AccountError, match="USERS, entry 1: the name 'gold' is reserved"):
        parse_users_env(f"gold:reviewer:{HASH}")
    with pytest.raises(AccountError, match="U\\+0009"):
        parse_users_toml(
            users_toml([]) + f'[[user]]\nname = "a\\tb"\nrole = "admin"\npassword_hash = "{HASH}"\n'
        )


def test_cli_add_user_refuses_a_reserved_name(tmp_path, capsys, monkeypatch):
    users = tmp_path / "users.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    code = main(
        ["add-user", "ann#2", "--role", "annotator", "--file", str(users), "--password-stdin"]
    )
    assert code == 1
    assert "contains '#'" in capsys.readouterr().err
    assert not users.exists()


def test_an_account_made_in_the_app_before_names_were_checked_cannot_sign_in(tmp_path, caplog):
    from auth.directory import AccountDirectory
    from domain.accounts import Account, Role
    from storage.account_store import AccountStore
    from storage.annotation_store import AnnotationStore

    url = f"sqlite:///{tmp_path / 'app.db'}"
    made_in_app = AccountStore(AnnotationStore.from_url(url).engine)
    made_in_app.save(Account("ann#repeat", Role.ANNOTATOR, HASH))  # as an older release did
    made_in_app.save(Account("bea", Role.ANNOTATOR, HASH))
    users = tmp_path / "users.toml"
    users.write_text(users_toml([Account("adam", Role.ADMIN, HASH)]))
    directory = AccountDirectory(users, "", made_in_app)

    assert directory.find("bea") is not None
    assert directory.find("ann#repeat") is None
    assert "account 'ann#repeat' may not sign in" in caplog.text
