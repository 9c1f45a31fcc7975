"""Active time reports from the browser, checked and added up on the server."""

from __future__ import annotations

import time
from pathlib import Path

from callbacks.activity import record_time, valid_time
from storage.visits import Visits
from tests.unit.callback_support import install_services


def test_time_reports_are_checked_before_they_are_added(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    services = install_services(tmp_path)

    assert valid_time({"key": "site/a.png", "annotator": "ann", "seconds": 12}) == (
        "site/a.png",
        "ann",
        12.0,
    )
    for bad in (
        None,
        {"key": "", "annotator": "ann", "seconds": 3},
        {"key": "k", "seconds": 3},
        {"key": "k", "annotator": "a", "seconds": -1},
        {"key": "k", "annotator": "a", "seconds": 10**9},
    ):
        assert valid_time(bad) is None
    # each report ends a visit the server began a minute ago (storage.visits bounds it)
    visits = Visits(services.images.cache, clock=lambda: time.time() - 60)
    visits.began("site/a.png", "ann")
    record_time({"key": "site/a.png", "annotator": "ann", "seconds": 12})
    visits.began("site/a.png", "ann")
    record_time({"key": "site/a.png", "annotator": "ann", "seconds": 3})
    assert services.store.active_times() == {("site/a.png", "ann"): 15.0}
    # Time on a second pass (an image that came back) is kept apart from the first.
    visits.began("site/a.png", "ann#repeat")
    record_time({"key": "site/a.png", "annotator": "ann#repeat", "seconds": 4})
    assert services.store.active_times()[("site/a.png", "ann#repeat")] == 4.0
