"""The Import / Export panel's callbacks, called as functions on a temporary project."""

from __future__ import annotations

import base64
from pathlib import Path

from PIL import Image

from callbacks.exchange import ALL, export_choices, export_job, import_job
from components.exchange_panel import CONSENSUS_CHOICE
from tests.unit.callback_support import install_services


def data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def quiet(done: int, total: int, what: str) -> None:
    return None


def project(tmp_path: Path) -> None:
    (tmp_path / "images" / "site").mkdir(parents=True)
    Image.new("RGB", (400, 200)).save(tmp_path / "images" / "site" / "a.png")
    install_services(tmp_path)


def test_an_upload_imports_and_the_new_annotator_can_be_exported(tmp_path: Path) -> None:
    project(tmp_path)
    text = "image,label,x0,y0,x1,y1\nsite/a.png,vehicle,0,0,0.5,0.5\n"

    result = import_job(data_url(text), "p.csv", "csv-normalized", "model", quiet)
    annotators, who, batches, batch = export_choices(True, None, None, "gone")
    download, message = export_job("csv", "model", "site", False, quiet)

    assert result.color == "success" and "1 shape(s) for model" in str(result.children)
    assert [o["value"] for o in annotators] == [ALL, CONSENSUS_CHOICE, "model"]
    assert [o["value"] for o in batches] == [ALL, "site"]
    assert (who, batch) == (ALL, ALL)  # values come with their options
    assert download["filename"] == "concord-csv-model-site.csv"
    assert base64.b64decode(download["content"]).decode().splitlines()[1] == (
        "site/a.png,model,vehicle,rect,0,0,200,100,"
    )
    assert message.color == "success"


def test_a_rejected_upload_lists_its_problems(tmp_path: Path) -> None:
    project(tmp_path)
    text = "image,label,x0,y0,x1,y1\nsite/a.png,vehicle,0,0,0.5\nsite/zz.png,vehicle,0,0,1,1\n"

    result = import_job(data_url(text), "p.csv", "csv-normalized", "model", quiet)

    assert result.color == "danger"
    assert "Nothing was imported from p.csv" in str(result.children)
    assert "p.csv: line 2: y1 = '' is not a number" in str(result.children)


def test_an_upload_that_is_not_a_data_url_is_explained(tmp_path: Path) -> None:
    project(tmp_path)

    result = import_job("garbage", "x.json", "coco", "model", quiet)

    assert "x.json: the upload could not be read" in str(result.children)


def test_exporting_nothing_says_so_and_sends_no_file(tmp_path: Path) -> None:
    project(tmp_path)

    download, message = export_job("coco", ALL, ALL, False, quiet)

    assert message.color == "danger"
    assert "no finished images" in str(message.children)
    assert download is not None and not isinstance(download, dict)


def test_the_consensus_can_be_exported_from_the_panel(tmp_path: Path) -> None:
    project(tmp_path)
    rows = "image,annotator,label,kind,x0,y0,x1,y1,points\n" + "".join(
        f"site/a.png,{who},vehicle,rect,{x0},10,{x0 + 100},110,\n"
        for who, x0 in (("ann", 10), ("bob", 14), ("cy", 12))
    )
    import_job(data_url(rows), "three.csv", "csv", "", quiet)

    download, message = export_job("csv", CONSENSUS_CHOICE, ALL, False, quiet)

    lines = base64.b64decode(download["content"]).decode().splitlines()
    assert lines[1:] == ["site/a.png,consensus,vehicle,rect,12,10,112,110,"]  # the medians
    assert "by consensus" in str(message.children)
