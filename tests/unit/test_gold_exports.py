"""The Export panel offers gold by a name that says what it is, and exports it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from callbacks.exchange import GOLD_LABEL, export_choices, export_job
from storage.runtime import current
from tests.unit.test_exchange_callbacks import project, quiet
from workflows.exchange import import_annotations

TIDY = "image,annotator,label,kind,x0,y0,x1,y1,points\nsite/a.png,gold,vehicle,rect,1,2,30,40,\n"


def test_the_export_panel_lists_gold_and_exports_it_as_coco(tmp_path: Path) -> None:
    project(tmp_path)
    import_annotations(current(), "csv", "gold.csv", TIDY.encode(), annotator="gold")

    annotators, *_ = export_choices(True, None, None, None)
    download, message = export_job("coco", "gold", None, False, quiet)

    assert {"label": GOLD_LABEL, "value": "gold"} in annotators
    assert GOLD_LABEL == "gold (reviewed annotations)"
    assert message.color == "success" and download["filename"] == "concord-coco-gold.json"
    coco = json.loads(base64.b64decode(download["content"]))
    assert [a["bbox"] for a in coco["annotations"]] == [[1, 2, 29, 38]]
