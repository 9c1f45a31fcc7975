"""Import / Export in the browser: draw, export to a download, import an upload."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

from tests.e2e.helpers import drag, sign_in, wait_rows, wait_until


def choose(page, dropdown: str, option: str) -> None:
    """Pick an option of a dcc.Dropdown by its visible text."""
    if page.inner_text(f"#{dropdown}").strip() == option:
        return  # picking the chosen option again would leave the menu open
    page.click(f"#{dropdown}")
    page.get_by_role("option", name=option, exact=True).click()
    wait_until(lambda: option in page.inner_text(f"#{dropdown}"), what=f"{option} chosen")


def export_rows(page, tmp_path: Path, fmt: str, annotator: str) -> list[dict[str, str]]:
    choose(page, "export-format", fmt)
    choose(page, "export-annotator", annotator)
    with page.expect_download(timeout=30_000) as download:
        page.click("#export-button")
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    wait_until(lambda: "Exported" in page.inner_text("#export-result"), what="export summary")
    return list(csv.DictReader(io.StringIO(target.read_text())))


def upload(page, tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    page.set_input_files("#import-upload input[type=file]", str(path))
    return wait_until(
        lambda: name in page.inner_text("#import-result") and page.inner_text("#import-result"),
        timeout=30,
        what=f"the result of importing {name}",
    )


def test_export_what_was_drawn_and_import_a_file(page, tmp_path: Path) -> None:
    name = f"tester-{uuid.uuid4().hex[:6]}"
    model = f"model-{uuid.uuid4().hex[:6]}"
    sign_in(page, name)
    drag(page, [(100, 120), (300, 260)])
    drawn = wait_rows(page, 1)[0]
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"))

    page.click("#exchange-open")
    page.wait_for_selector("#exchange-panel", state="visible")
    wait_until(lambda: "All batches" in page.inner_text("#export-batch"), what="batch default")
    assert not page.is_visible("#export-segments")  # a YOLO-only option
    exported = export_rows(page, tmp_path, "CSV (tidy, pixels, every annotator)", name)

    assert [(r["annotator"], r["label"], r["kind"]) for r in exported] == [(name, "person", "rect")]
    for column in ("x0", "y0", "x1", "y1"):
        assert abs(float(exported[0][column]) - float(drawn[column])) <= 0.05  # grid: 1 decimal

    choose(page, "import-format", "CSV normalized boxes (0..1)")
    page.fill("#import-annotator", model)
    bad = upload(page, tmp_path, "bad.csv", "image,label,x0,y0,x1,y1\n02-chelsea.jpg,cat,0,0,1,1\n")
    assert "Nothing was imported from bad.csv" in bad
    assert "bad.csv: line 2: label 'cat' is not one of the project's labels" in bad

    good = upload(
        page, tmp_path, "boxes.csv", "image,label,x0,y0,x1,y1\n02-chelsea.jpg,animal,0.25,0,1,1\n"
    )
    assert f"Imported boxes.csv: 1 image(s) (0 with no objects), 1 shape(s) for {model}" in good

    rows = export_rows(page, tmp_path, "CSV (tidy, pixels, every annotator)", model)
    assert [(r["image"], r["label"]) for r in rows] == [("02-chelsea.jpg", "animal")]
    assert float(rows[0]["x0"]) == 0.25 * 451  # chelsea is 451x300
    assert float(rows[0]["y1"]) == 300
