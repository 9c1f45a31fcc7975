"""The Review tab over HTTP with sign-in: an annotator's page has no Review tab, and the
server refuses the review callbacks (verdicts, gold edits) for an annotator, storing
nothing, while a reviewer's same request is recorded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from auth.passwords import hash_password
from domain.annotation import Annotation
from domain.review import ReviewStatus
from domain.sources import GOLD
from storage.annotation_store import AnnotationStore
from storage.review_store import ReviewStore
from tests.dash_requests import DashClient
from tests.servers import AppServer

IMAGE = "01-astronaut.jpg"  # of the sample batch the app makes in a fresh DATA_DIR
PASSWORD = "long enough password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    data = tmp_path_factory.mktemp("review-roles") / "data"
    store = AnnotationStore.from_url(f"sqlite:///{data / 'annotations.db'}")
    store.sync_image(
        IMAGE, "bob", [Annotation("bob-1", IMAGE, "bob", "person", "rect", (10, 20, 110, 220))]
    )
    store.engine.dispose()
    secret = hash_password(PASSWORD)
    users = ",".join(f"{n}:{r}:{secret}" for n, r in (("alice", "annotator"), ("rita", "reviewer")))
    app = AppServer(data, env={"USERS": users, "SECRET_KEY": "k" * 32}).start()
    yield app
    app.stop()


def client(server: AppServer, name: str) -> DashClient:
    found = DashClient(server.url)
    assert found.sign_in(name, PASSWORD).status_code == 302
    return found


def test_review_callbacks_refuse_an_annotator_and_serve_a_reviewer(server) -> None:
    alice, rita = client(server, "alice"), client(server, "rita")
    assert "review-queue" not in alice.session.get(server.url + "_dash-layout").text
    assert "review-queue" in rita.session.get(server.url + "_dash-layout").text

    specs = rita.dependencies()
    decide = rita.spec("review-accept.n_clicks", "review-changed-store", specs)
    image = {"key": IMAGE, "width": 512, "height": 512, "error": None}
    values = {"review-accept.n_clicks": 1, "review-image-store.data": image}
    refused = alice.call(decide, values)
    assert refused.status_code == 403 and "Only reviewers may do this." in refused.text

    edit = rita.spec("review-graph-edit-store.data", "review-gold-store", specs)
    gold = {"image_key": IMAGE, "annotator": GOLD, "items": [], "known": []}
    drawn = {"shapes": [{"type": "rect", "x0": 5, "y0": 5, "x1": 50, "y1": 60}]}
    edit_values = {
        "review-graph-edit-store.data": drawn,
        "review-gold-store.data": gold,
        "review-image-store.data": image,
        "review-label.value": "person",
    }
    assert alice.call(edit, edit_values).status_code == 403

    store = AnnotationStore.from_url(f"sqlite:///{server.data_dir / 'annotations.db'}")
    reviews = ReviewStore(store.engine)
    assert store.annotations_for(IMAGE, GOLD) == []
    assert reviews.reviews_of([IMAGE]) == {}

    assert rita.call(edit, edit_values).status_code == 200
    [saved] = store.annotations_for(IMAGE, GOLD)
    assert saved.coords == (5, 5, 50, 60)
    assert {e.actor for e in store.events(IMAGE, GOLD)} == {"rita"}
    assert rita.call(decide, values).status_code == 200
    assert reviews.reviews_of([IMAGE])[IMAGE].status == ReviewStatus.ACCEPTED
    store.engine.dispose()
