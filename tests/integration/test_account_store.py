"""Accounts and settings an admin makes in the app, on SQLite and PostgreSQL."""

from __future__ import annotations

from auth.passwords import hash_password, password_matches
from config import load_settings
from domain.accounts import Account, Role
from storage.account_store import AccountStore, AppSettings
from storage.annotation_store import AnnotationStore
from storage.runtime import assignment_setup


def test_accounts_are_added_updated_listed_and_removed(store: AnnotationStore) -> None:
    accounts = AccountStore(store.engine)
    assert accounts.find("ana") is None
    assert accounts.save(Account("ana", Role.ANNOTATOR, hash_password("first password")))
    assert not accounts.save(Account("ana", Role.REVIEWER, hash_password("second password")))
    found = accounts.find("ana")
    assert found is not None and found.role is Role.REVIEWER
    assert password_matches(found.password_hash, "second password")
    accounts.save(Account("bo", Role.ADMIN, hash_password("third password")))
    assert [a.name for a in accounts.all()] == ["ana", "bo"]
    assert accounts.remove("ana") and not accounts.remove("ana")
    assert accounts.find("ana") is None  # a change is seen at once by the same worker
    other_worker = AccountStore(store.engine)
    assert [a.name for a in other_worker.all()] == ["bo"]


def test_assignment_set_in_the_app_wins_over_the_environment(store: AnnotationStore, tmp_path):
    settings = load_settings({"DATA_DIR": str(tmp_path), "ANNOTATORS_PER_IMAGE": "2"})
    chosen = AppSettings(store.engine)
    assert assignment_setup(settings, chosen) == (2, 30)
    chosen.put("annotators_per_image", "1")
    chosen.put("claim_minutes", "5")
    assert assignment_setup(settings, chosen) == (1, 5)
    chosen.put("annotators_per_image", "0")  # everyone sees every image
    assert assignment_setup(settings, chosen) == (None, 5)
    chosen.put("annotators_per_image", None)  # back to the environment's
    assert assignment_setup(settings, chosen)[0] == 2
