"""The Agreement tab's builders and callbacks, called as functions on a temporary project.

Three annotators on three images (boxes in image pixels):
    site/a.png  alice, bob, carol draw nearly the same person box        -> full agreement
    site/b.png  alice draws two person boxes, bob only one of them       -> 1 - 2/3 = 0.333
    site/c.png  alice and bob draw the same box, animal vs person        -> 1.0
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate
from PIL import Image

from analysis.report import agreement_report
from callbacks import agreement
from components import agreement_tab as tab
from components import ids
from components.layout import PageProject, build_layout
from domain.accounts import Role, Viewer
from domain.annotation import Annotation
from domain.status import ImageStatus
from storage.runtime import Services
from tests.unit.callback_support import call, install_services
from tests.unit.conftest import CREATED, LABELS, NOW
from workflows.agreement import load_work

SHAPES = {
    "site/a.png": {
        "alice": [("person", (10, 10, 110, 110))],
        "bob": [("person", (12, 12, 112, 112))],
        "carol": [("person", (10, 10, 110, 110))],
    },
    "site/b.png": {
        "alice": [("person", (0, 0, 100, 100)), ("person", (200, 100, 300, 190))],
        "bob": [("person", (2, 0, 100, 98))],
    },
    "site/c.png": {
        "alice": [("animal", (50, 50, 150, 150))],
        "bob": [("person", (50, 50, 150, 150))],
    },
}


def quiet(done: int, what: str) -> None:
    return None


def record(key: str, who: str, number: int, label: str, box: tuple[int, ...]) -> Annotation:
    return Annotation(
        id=f"{who}-{key}-{number}",
        image_key=key,
        annotator=who,
        label=label,
        kind="rect",
        coords=tuple(float(v) for v in box),
        created_at=CREATED,
        updated_at=CREATED,
    )


def project(tmp_path: Path) -> Services:
    folder = tmp_path / "images" / "site"
    folder.mkdir(parents=True)
    for name in ("a.png", "b.png", "c.png"):
        Image.new("RGB", (400, 200), (90, 120, 160)).save(folder / name)
    services = install_services(tmp_path)
    for key, done in SHAPES.items():
        for who, shapes in done.items():
            records = [record(key, who, n, label, box) for n, (label, box) in enumerate(shapes)]
            services.store.sync_image(key, who, records)
    services.store.set_status("site/a.png", "dave", ImageStatus.SKIPPED)  # not finished: absent
    return services


def computed(tmp_path: Path) -> dict[str, Any]:
    project(tmp_path)
    data, key, message = agreement.agreement_job(0.5, None, quiet)
    assert key["threshold"] == 0.5 and message.color == "success"
    return data


def text_of(component: Any) -> str:
    """Every string inside a component tree, joined by spaces."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(filter(None, (text_of(child) for child in component)))
    children = getattr(component, "children", None)
    return "" if children is None else text_of(children)


def component_ids(component: Any) -> list[Any]:
    found = [getattr(component, "id", None)]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found += component_ids(child)
    return [i for i in found if i is not None]


def find(component: Any, wanted: str) -> Any:
    if getattr(component, "id", None) == wanted:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            hit = find(child, wanted)
            if hit is not None:
                return hit
    return None


def test_the_cards_show_alpha_with_its_interval_mean_f1_and_shared_images(tmp_path: Path) -> None:
    data = computed(tmp_path)
    expected = agreement_report(load_work(agreement.current()), 0.5)

    style, cards, *_ = call(agreement.show_report, "agreement-report.data", data, None)
    alpha, f1, images = (text_of(card) for card in cards)

    assert style == {}  # the results section appears
    value = expected.label_alpha
    shown = f"{value.value:.2f} 95% CI {value.ci_low:.2f} to {value.ci_high:.2f}"
    assert alpha == f"Label agreement (Krippendorff's α) {shown}"
    # pairs: alice-bob 2*3/(4+3) = 0.857, alice-carol 1.0, bob-carol 1.0 -> mean 0.952
    assert f1.startswith("Mean pairwise F1 0.95 over 3 annotator pair(s), IoU ≥ 0.50")
    assert images == "Images with 2+ annotators 3 3 annotator(s) in all"  # dave only skipped


def test_the_heatmap_holds_each_pair_on_both_sides_and_nothing_on_the_diagonal(
    tmp_path: Path,
) -> None:
    data = computed(tmp_path)

    f1 = call(agreement.show_heatmap, "agreement-report.data", data, "f1")
    kappa = call(agreement.show_heatmap, "agreement-metric.value", data, "label_kappa")

    heat = f1.data[0]
    assert list(heat.x) == list(heat.y) == ["alice", "bob", "carol"]
    z = [list(row) for row in heat.z]
    assert z[0][1] == z[1][0] == pytest.approx(6 / 7)
    assert z[0][2] == z[2][0] == z[1][2] == z[2][1] == 1.0
    assert z[0][0] is z[1][1] is z[2][2] is None
    assert heat.text[0][1] == "0.86"
    assert kappa.data[0].zmin == -1.0  # kappa can be negative
    assert kappa.data[0].colorbar.title.text == "Label kappa (Cohen)"


def test_bias_plots_show_every_annotator_from_the_per_object_values(tmp_path: Path) -> None:
    data = computed(tmp_path)

    _style, _cards, area, edges, misses, *_ = call(
        agreement.show_report, "agreement-report.data", data, None
    )

    assert [trace.name for trace in area.data] == ["alice", "bob", "carol"]
    # bob's box on b.png, 98 x 98 against alice's 100 x 100: ln 0.9604; on a.png and c.png
    # his box has the consensus's size
    assert list(area.data[1].y) == [-0.0404, 0.0, 0.0]
    assert list(area.data[2].y) == [0.0]  # carol drew on a.png only
    assert list(edges.data[1].x) == ["left"] * 3 + ["right"] * 3 + ["top"] * 3 + ["bottom"] * 3
    assert list(edges.data[1].y)[:3] == [-0.02, -0.02, 0.0]  # bob's left edges lie inside
    colours = {trace.marker.color for trace in area.data}
    assert len(colours) == 3
    miss, extra = misses.data
    assert list(miss.x) == ["alice", "bob", "carol"]
    # bob misses alice's second box on b.png; alice draws one extra there (1 of 3 images)
    assert miss.y[1] > 0 and extra.y[0] == pytest.approx(1 / 3)


def test_the_confusion_heatmap_follows_the_chosen_annotator(tmp_path: Path) -> None:
    data = computed(tmp_path)

    *_, options, who, disabled = call(agreement.show_report, "agreement-report.data", data, "bob")
    figure = call(agreement.show_confusion, "agreement-confusion-who.value", data, who)

    assert [o["value"] for o in options] == ["alice", "bob", "carol"] and who == "bob"
    assert disabled is False  # the download button is enabled
    heat = figure.data[0]
    assert list(heat.x) == ["animal", "person"]
    # consensus of alice alone on c.png says animal; bob said person
    assert [list(row) for row in heat.z] == [[0.0, 1.0], [0.0, 1.0]]


def test_images_are_ranked_most_disagreed_first(tmp_path: Path) -> None:
    data = computed(tmp_path)

    rows = call(agreement.show_report, "agreement-report.data", data, None)[5]

    assert [(r["rank"], r["image"], r["disagreement"]) for r in rows] == [
        (1, "site/c.png", 1.0),
        (2, "site/b.png", 0.333),
        (3, "site/a.png", 0.0),
    ]
    assert rows[0]["annotators"] == "alice, bob" and rows[1]["objects"] == 3


def test_clicking_a_row_shows_every_annotators_shapes_in_their_own_style(tmp_path: Path) -> None:
    data = computed(tmp_path)
    rows = tab.ranking_rows(data)

    view = call(agreement.show_comparison, "agreement-images.selectedRows", [rows[2]], data)

    graph = next(c for c in view.children if getattr(c, "id", None) == ids.AGREEMENT_COMPARE_GRAPH)
    layout = graph.figure["layout"]
    shapes = layout["shapes"]
    assert [s["name"] for s in shapes] == ["alice", "bob", "carol"]  # one per object
    assert len({(s["line"]["color"], s["line"]["dash"]) for s in shapes}) == 3
    assert not any(s["editable"] for s in shapes)
    assert [shapes[1][corner] for corner in ("x0", "y0", "x1", "y1")] == [12, 12, 112, 112]
    assert layout["images"][0]["source"].startswith("/images/site/a.png")
    assert (layout["xaxis"]["range"], layout["yaxis"]["range"]) == ([0, 400], [200, 0])
    assert "drawrect" not in str(graph.config) and layout["dragmode"] == "pan"
    legend = [t["name"] for t in graph.figure["data"] if t.get("showlegend", True)]
    assert legend == ["alice", "bob", "carol"]
    assert "alice 1 shape(s) bob 1 shape(s) carol 1 shape(s)" in text_of(view)


def test_every_shape_kind_becomes_its_plotly_shape() -> None:
    base = record("k", "alice", 0, "person", (1, 2, 3, 4))
    polygon = Annotation(
        id="p", image_key="k", annotator="bob", label="person", kind="polygon",
        points=((0, 0), (10, 0), (5, 8)),
    )  # fmt: skip
    path = Annotation(
        id="q", image_key="k", annotator="bob", label="person", kind="path",
        points=((0, 0), (10, 0)),
    )  # fmt: skip
    circle = Annotation(
        id="c", image_key="k", annotator="alice", label="animal", kind="circle", coords=(0, 0, 4, 4)
    )
    line = Annotation(
        id="l", image_key="k", annotator="alice", label="animal", kind="line", coords=(0, 0, 4, 4)
    )

    shapes = tab.comparison_shapes([base, polygon, path, circle, line], ["alice", "bob"])

    assert [s["type"] for s in shapes] == ["rect", "path", "path", "circle", "line"]
    assert shapes[1]["path"].startswith("M") and shapes[1]["path"].endswith("Z")
    assert not shapes[2]["path"].endswith("Z")
    assert shapes[0]["line"]["color"] != shapes[1]["line"]["color"]
    assert shapes[4]["fillcolor"] == "rgba(0,0,0,0)"


def test_the_download_holds_pairwise_and_per_annotator_tables(tmp_path: Path) -> None:
    data = computed(tmp_path)

    download = call(agreement.download_metrics, "agreement-download-button.n_clicks", 1, data)

    assert download["filename"] == "concord-agreement-iou0.50.zip"
    archive = zipfile.ZipFile(io.BytesIO(agreement.metrics_archive(data)))
    assert sorted(archive.namelist()) == [
        "annotators.csv",
        "pairwise.csv",
        "report.json",
        "summary.csv",
    ]
    report = json.loads(archive.read("report.json"))
    assert report["annotators"] == ["alice", "bob", "carol"] and "ranking" not in report
    pairwise = list(csv.DictReader(io.StringIO(archive.read("pairwise.csv").decode())))
    assert list(pairwise[0]) == [
        "iou_threshold", "a", "b", "images", "matched", "drawn_a", "drawn_b",
        "f1", "mean_iou", "label_kappa", "f1_over_thresholds",
    ]  # fmt: skip
    assert [(r["a"], r["b"], r["images"]) for r in pairwise] == [
        ("alice", "bob", "3"),
        ("alice", "carol", "1"),
        ("bob", "carol", "1"),
    ]
    people = list(csv.DictReader(io.StringIO(archive.read("annotators.csv").decode())))
    assert [r["annotator"] for r in people] == ["alice", "bob", "carol"]
    for column in ("miss_rate", "extra_per_image", "log_area_ratio", "edge_left", "edge_bottom"):
        assert column in people[0]
    assert "confusion" not in people[0]


def test_compute_is_skipped_until_annotations_or_the_threshold_change(tmp_path: Path) -> None:
    services = project(tmp_path)
    data, key, _ = agreement.agreement_job(0.5, None, quiet)

    again = agreement.agreement_job(0.5, key, quiet)
    stricter = agreement.agreement_job(0.95, key, quiet)
    animal = replace(record("site/c.png", "bob", 0, "animal", (50, 50, 150, 150)), updated_at=NOW)
    services.store.sync_image("site/c.png", "bob", [animal])
    relabelled = agreement.agreement_job(0.5, key, quiet)

    assert again[0] is no_update and again[1] is no_update
    assert "Up to date" in again[2].children
    assert stricter[1]["threshold"] == 0.95 and stricter[0]["iou_threshold"] == 0.95
    assert stricter[1]["fingerprint"] == key["fingerprint"]
    assert relabelled[1]["fingerprint"] != key["fingerprint"]
    assert relabelled[0]["ranking"][0]["image"] == "site/b.png"  # c.png now agrees


def test_no_shared_images_says_so(tmp_path: Path) -> None:
    services = install_services(tmp_path)
    services.store.set_status("x.png", "alice", ImageStatus.EMPTY)

    data, _key, message = agreement.agreement_job(0.5, None, quiet)
    _style, cards, *_ = call(agreement.show_report, "agreement-report.data", data, None)

    assert message.color == "warning" and "two or more annotators" in message.children
    assert "Krippendorff's α) — undefined" in text_of(cards[0])
    assert tab.ranking_rows(data) == []


def test_nothing_happens_before_compute_or_a_click() -> None:
    with pytest.raises(PreventUpdate):
        call(agreement.show_report, "agreement-report.data", None, None)
    with pytest.raises(PreventUpdate):
        call(agreement.show_comparison, "agreement-images.selectedRows", [], {"annotators": []})
    with pytest.raises(PreventUpdate):
        call(agreement.download_metrics, "agreement-download-button.n_clicks", 1, None)


def test_the_annotate_view_stays_the_first_tab_with_every_id() -> None:
    page = build_layout(LABELS)
    two_projects = PageProject("a", "A", (("a", "A"), ("b", "B")))
    signed_in = build_layout(LABELS, Viewer("ann", Role.ADMIN, True), two_projects)
    found = component_ids(page) + component_ids(signed_in)  # local mode and sign-in ids
    tabs = find(page, ids.TABS)

    wanted = [
        value
        for name, value in vars(ids).items()
        if name.isupper() and isinstance(value, str) and not name.startswith("TAB_")
    ]
    # pattern-matching types, and a graph made on demand, are not in the page itself
    made_later = (
        ids.LABEL_BUTTON,
        ids.AGREEMENT_COMPARE_GRAPH,
        ids.SUGGEST_ACCEPT,
        ids.SUGGEST_REJECT,
        ids.GALLERY_TILE,
        ids.QA_CARD,
        ids.PROJECT_CHOICE,
        ids.ADMIN_PROJECT_MEMBER_ACCOUNT,
        ids.ADMIN_PROJECT_MEMBER_ROLE,
        ids.UPLOAD_FILES,  # made by assets/upload.js
        ids.LAZY_PANE,
    )
    missing = {w for w in wanted if w not in found and w not in made_later}
    assert missing == set()
    assert {"type": ids.LABEL_BUTTON, "index": "person"} in found
    assert [t.tab_id for t in tabs.children] == [
        ids.TAB_ANNOTATE,
        ids.TAB_GALLERY,
        ids.TAB_QA,
        ids.TAB_REVIEW,
        ids.TAB_AGREEMENT,
        ids.TAB_ADMIN,
    ]
    labels = ["Annotate", "Gallery", "Label QA", "Review", "Agreement", "Admin"]
    assert [t.label for t in tabs.children] == labels
    assert tabs.active_tab == ids.TAB_ANNOTATE
    assert ids.GRAPH in component_ids(tabs.children[0])
    assert ids.AGREEMENT_THRESHOLD in component_ids(tabs.children[4])


def test_the_job_reports_a_second_pass_that_missed_an_object(tmp_path: Path) -> None:
    # bob's first pass of site/c.png missed an object his second pass (a repeat) drew: a
    # defined intra-rater alpha, which once made the job fail ("resamples must be at least 1")
    services = project(tmp_path)
    again = {
        "site/a.png": SHAPES["site/a.png"]["bob"],
        "site/c.png": [*SHAPES["site/c.png"]["bob"], ("person", (250, 20, 350, 120))],
    }
    for key, shapes in again.items():
        records = [record(key, "bob#repeat", n, *shape) for n, shape in enumerate(shapes)]
        services.store.sync_image(key, "bob#repeat", records)

    data, _key, message = agreement.agreement_job(0.5, None, quiet)

    [bob] = data["intra_rater"]
    assert (bob["annotator"], bob["images_both_passes"], bob["f1"]) == ("bob", 2, 0.8)
    assert bob["label_alpha_estimate"]["value"] is not None
    assert "bob#repeat" not in data["annotators"] and message.color == "success"
    assert "Same annotator twice" in text_of(agreement.show_intra_rater(data))
