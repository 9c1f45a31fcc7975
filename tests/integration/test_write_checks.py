"""After a probe's crafted saves (issue 16, point 2), on each database: nothing invalid is
stored, and the six exports and the agreement report still run for every reviewer."""

from __future__ import annotations

from pathlib import Path

from analysis.report import agreement_report
from callbacks import annotations
from formats.registry import FORMAT_NAMES
from tests.unit.callback_support import call, install_services, make_batch
from tests.unit.test_callbacks import RECT, draw, open_image
from tests.unit.test_write_checks import KEY, PROBES, crafted, item
from workflows.agreement import load_work
from workflows.exchange import export_annotations


def test_exports_and_agreement_run_after_crafted_saves(tmp_path: Path, database_url: str):
    make_batch(tmp_path / "images", [(400, 300), (640, 480)])
    services = install_services(tmp_path, DATABASE_URL=database_url)
    try:
        for who in ("alice", "bob"):
            image, records = open_image(KEY, who)
            draw(image, records, [RECT], annotator=who)
        image, records = open_image(KEY, "alice")
        # the probes on alice's own image (today's code stores them; the foreign ones made
        # the whole save fail)
        ours = (KEY, "alice")
        own = [p for p, _words in PROBES.values() if (p["image_key"], p["annotator"]) == ours]
        bad = [{**probe, "id": f"bad-{n}"} for n, probe in enumerate(own)]
        good = item("good", coords=[200, 100, 300, 200])
        state = crafted([*records["items"], good, *bad], known=records["known"])
        call(annotations.retry_save, "retry.n_clicks", 1, None, state)

        for name in FORMAT_NAMES:  # 2 (image, annotator) pairs, 3 shapes, nothing left out
            exported = export_annotations(services, name)
            assert (exported.images, exported.shapes, exported.warnings) == (2, 3, ()), name
        report = agreement_report(load_work(services), resamples=0)
        assert (report.annotators, report.images_finished) == (("alice", "bob"), 1)
        assert report.left_out == ()  # no stored shape had to be skipped
        rows = services.store.export_rows(key_prefix="").shapes
        assert sorted((row.annotator, row.coords) for row in rows) == [
            ("alice", (10, 20, 110, 80)),
            ("alice", (200, 100, 300, 200)),
            ("bob", (10, 20, 110, 80)),
        ]
    finally:
        services.store.engine.dispose()
