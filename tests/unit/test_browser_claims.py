"""What the browser claims about who imports and how long someone worked is bounded by
what the server knows: the importer is the session's account, and active time is at most
the wall-clock time of the visit the server served, once per visit."""

from __future__ import annotations

import base64
import time
from contextvars import copy_context
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import flask
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate

import auth.session
from callbacks import annotations
from callbacks.activity import record_time
from callbacks.exchange import ASKING, run_import, who_asks
from domain.accounts import Account, Role
from storage.runtime import Services
from storage.visits import SLACK_SECONDS, Visits
from tests.unit.callback_support import call, install_services, make_batch

HOUR = 3600.0


@pytest.fixture
def services(tmp_path: Path) -> Services:
    make_batch(tmp_path / "images", [(640, 480), (400, 300)])
    return install_services(tmp_path, LABELS="car,bike")


@pytest.fixture
def signed_in_as_ada(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-in on, and the session's account is ada (an admin)."""
    monkeypatch.setattr(auth.session, "_directory", SimpleNamespace(enabled=True))
    account = Account("ada", Role.ADMIN, "hash")
    monkeypatch.setattr(auth.session, "signed_in_account", lambda: account)


def as_background_job(callback: Any, custom_data: dict[str, Any], *args: Any) -> Any:
    """Run a background callback's function as its job does: in another context, with
    the custom data the request's hooks gathered, and no Flask request."""

    def run() -> Any:
        context_value.set(AttributeDict(triggered_inputs=[], custom_data=custom_data))
        return callback(lambda progress: None, *args)

    return copy_context().run(run)


def upload(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def test_an_import_is_recorded_as_the_sessions_account_not_the_name_sent(
    services: Services, signed_in_as_ada: None
) -> None:
    with flask.Flask("probe").test_request_context("/_dash-update-component", method="POST"):
        asking = who_asks(None)  # in the request that starts the job

    rows = upload("image,label,x0,y0,x1,y1\nimg01.jpg,car,0.1,0.1,0.5,0.5\n")
    result, _stamp = as_background_job(
        run_import, {ASKING: asking}, rows, "boxes.csv", "csv-normalized", "someone", "mallory"
    )

    assert "Imported" in str(result.children)
    assert {event.actor for event in services.store.events()} == {"ada"}


def test_in_local_mode_the_importer_is_the_name_the_page_holds(services: Services) -> None:
    asking = who_asks(None)

    rows = upload("image,label,x0,y0,x1,y1\nimg01.jpg,car,0.1,0.1,0.5,0.5\n")
    as_background_job(
        run_import, {ASKING: asking}, rows, "b.csv", "csv-normalized", "someone", "lee"
    )

    assert {event.actor for event in services.store.events()} == {"lee"}


def began_ago(services: Services, key: str, who: str, seconds: float) -> None:
    Visits(services.images.cache, clock=lambda: time.time() - seconds).began(key, who)


def test_four_hours_claimed_for_a_visit_of_ten_seconds_count_ten(services: Services) -> None:
    began_ago(services, "img01.jpg", "ann", 10)

    record_time({"key": "img01.jpg", "annotator": "ann", "seconds": 4 * HOUR})

    recorded = services.store.active_times()[("img01.jpg", "ann")]
    assert 10 <= recorded <= 10 + SLACK_SECONDS + 1


def test_a_visit_is_reported_once_and_an_unserved_image_not_at_all(services: Services) -> None:
    began_ago(services, "img01.jpg", "ann", 100)

    record_time({"key": "img01.jpg", "annotator": "ann", "seconds": 30})
    with pytest.raises(PreventUpdate):
        record_time({"key": "img01.jpg", "annotator": "ann", "seconds": 30})  # replayed
    with pytest.raises(PreventUpdate):
        record_time({"key": "img02.jpg", "annotator": "ann", "seconds": 30})  # never served

    assert services.store.active_times() == {("img01.jpg", "ann"): 30.0}


def test_loading_an_images_records_begins_its_visit(services: Services) -> None:
    image = {"key": "img02.jpg", "width": 400, "height": 300}
    call(annotations.load_records, "image-store.data", image, "ann", None)

    record_time({"key": "img02.jpg", "annotator": "ann", "seconds": 4 * HOUR})

    assert services.store.active_times()[("img02.jpg", "ann")] <= SLACK_SECONDS + 2
