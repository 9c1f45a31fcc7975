"""The label QA grid's callbacks, called as functions: an annotator sees and changes their
own shapes only whatever the browser sends; paging, old labels, and a crafted relabel."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate
from sqlalchemy import insert

import auth.session
from callbacks import qa
from components import ids
from components.qa_tab import PAGE_SIZE
from domain.accounts import Account, Role
from domain.annotation import Annotation
from domain.records_state import RecordsState, state_from_data
from storage.annotation_store import _values
from storage.runtime import Services
from storage.schema import ANNOTATIONS
from tests.unit.callback_support import call, install_services, make_batch

RELABEL = f"{ids.QA_RELABEL}.n_clicks"


@pytest.fixture
def services(tmp_path: Path) -> Services:
    keys = make_batch(tmp_path / "images", [(640, 480), (400, 300)])
    services = install_services(tmp_path, LABELS="car,bike")
    for n in range(PAGE_SIZE + 2):  # alice: 50 cars on the first image
        x = float(n % 40) * 10
        shape = Annotation(f"a{n:02d}", keys[0], "alice", "car", "rect", coords=(x, 5, x + 9, 20))
        services.store.sync_image(
            keys[0], "alice", [*services.store.annotations_for(keys[0], "alice"), shape]
        )
    bobs = Annotation("b1", keys[1], "bob", "car", "rect", coords=(10, 10, 60, 60))
    old = Annotation("b2", keys[1], "bob", "truck", "rect", coords=(70, 10, 90, 60))
    services.store.sync_image(keys[1], "bob", [bobs])
    with services.store.engine.begin() as conn:  # a label LABELS no longer has
        conn.execute(insert(ANNOTATIONS).values(**_values(old)))
    return services


@pytest.fixture
def signed_in(monkeypatch: pytest.MonkeyPatch):
    """Sign-in on, as the named account with the given role."""

    def as_(name: str, role: Role) -> None:
        monkeypatch.setattr(auth.session, "_directory", SimpleNamespace(enabled=True))
        account = Account(name, role, "hash")
        monkeypatch.setattr(auth.session, "signed_in_account", lambda: account)

    return as_


def page(
    trigger: str, label="car", who="*", batch="*", offset=0, selected=None, new=None, records=None
):
    return call(
        qa.qa_page,
        trigger,
        *(label, who, batch, 1, 1, 1, 1, offset, selected, new, "claimed", records),
    )


def card_ids(cards: list) -> list[str]:
    return [card.id["index"] for card in cards]


def test_an_annotator_sees_only_their_own_shapes_whatever_is_asked(services, signed_in):
    signed_in("bob", Role.ANNOTATOR)
    cards, text, offset, shown, *_ = page(f"{ids.QA_WHO}.value", who="alice")
    assert card_ids(cards) == ["b1"] and text == "1-1 of 1 shapes labelled car"
    assert shown == [["b1", 1]]


def test_a_reviewer_pages_through_everyones_shapes(services, signed_in):
    signed_in("rita", Role.REVIEWER)
    cards, text, offset, shown, prev_off, next_off, *_ = page(f"{ids.QA_LABEL}.value")
    assert len(cards) == PAGE_SIZE and text == f"1-{PAGE_SIZE} of 51 shapes labelled car"
    assert (prev_off, next_off) == (True, False)
    cards, text, offset, *_, prev_off, next_off, _m, _o, _c, _r = page(
        f"{ids.QA_NEXT}.n_clicks", offset=0
    )
    assert offset == PAGE_SIZE and len(cards) == 3 and (prev_off, next_off) == (False, True)
    assert card_ids(cards)[-1] == "b1"  # ordered by image, then creation
    first = cards[0]
    crop = first.children[0].children.children[0]
    assert crop.src.startswith("/crops/img01.jpg?box=") and "&v=" in crop.src
    assert first.children[1].children == "alice" and first.children[2].children == "img01.jpg"


def test_a_crafted_relabel_of_someone_elses_shape_is_refused(services, signed_in):
    signed_in("bob", Role.ANNOTATOR)
    result = page(RELABEL, selected={"a00": 1, "b1": 1}, new="bike")
    message, is_open, color = result[-4:-1]
    assert is_open and color == "warning"
    assert message.startswith("Relabelled 1 shape to bike. Not changed (1): img01.jpg: not yours")
    assert services.store.annotations_for("img01.jpg", "alice")[0].label == "car"
    assert card_ids(result[0]) == []  # bob's only car is a bike now: it left the page

    refused = page(RELABEL, selected={"a00": 1}, new="lorry")
    assert refused[-4:-1] == (
        "Nothing changed: label 'lorry' is not one of the project's labels (car, bike).",
        True,
        "danger",
    )


def test_the_tab_lists_old_labels_and_limits_an_annotator_to_themselves(services, signed_in):
    signed_in("bob", Role.ANNOTATOR)
    position = {"batch": "", "key": "img01.jpg", "index": 0}
    opened = call(qa.open_qa, "page-tabs.active_tab", ids.TAB_QA, position, None, None, None, None)
    labels, label, who_options, who, who_locked, batches, batch = opened
    assert [o["label"] for o in labels] == ["car", "bike", "truck (not in LABELS)"]
    assert label == "car" and who == "bob" and who_locked
    assert [o["value"] for o in who_options] == ["bob"]
    assert batch == ""  # the annotate view's batch (the top level)

    signed_in("rita", Role.REVIEWER)
    opened = call(qa.open_qa, "page-tabs.active_tab", ids.TAB_QA, position, None, None, None, None)
    assert [o["value"] for o in opened[2]] == ["*", "gold", "alice", "bob"]
    assert opened[4] is False
    with pytest.raises(PreventUpdate):  # another tab opened: nothing is read
        call(qa.open_qa, "page-tabs.active_tab", ids.TAB_ANNOTATE, position, None, None, None, None)


def test_the_annotate_view_is_given_the_relabelled_shapes(services, signed_in):
    """Going back to Annotate after a relabel shows the new label, not the one the browser
    kept; unsaved records there are left alone (their own retry saves them)."""
    signed_in("bob", Role.ANNOTATOR)
    key = services.store.export_rows("bob").shapes[0].image_key
    opened = RecordsState(key, "bob", tuple(services.store.annotations_for(key, "bob")))
    result = page(RELABEL, selected={"b1": 1}, new="bike", records=opened.to_data())
    again = state_from_data(result[-1])
    assert [r.label for r in again.records] == ["bike", "truck"] and not again.unsaved
    assert again.rev == opened.rev + 1  # a new revision: the figure and grid redraw

    unsaved = RecordsState(key, "bob", opened.records, unsaved=True)
    result = page(RELABEL, selected={"b1": 2}, new="car", records=unsaved.to_data())
    assert result[-1] is no_update
    paged = page(f"{ids.QA_NEXT}.n_clicks", records=opened.to_data())
    assert paged[-1] is no_update  # paging changes nothing: nothing to read again
