"""Labels, account names and file names show as text in every chart (issue 16, point 10).

Plotly renders a subset of HTML (`<a href>`, `<b>`, `<br>`) in trace names, tick labels,
axis titles, annotations, shape labels and hover text: a name like `<a href=...>` would be
a live link. Every figure holds these names HTML-escaped, so Plotly shows them literally.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image

from callbacks import agreement
from components import agreement_tab as tab
from components.figure import image_figure, newshape_for, shapes_of
from components.plot_text import plot_text
from components.suggestions import suggestion_traces
from domain.annotation import Annotation
from domain.editing import Canvas, apply_shape_change
from domain.labels import parse_labels
from domain.relayout import parse_relayout
from domain.suggestions import Suggestion
from tests.unit.callback_support import call, install_services
from tests.unit.conftest import CREATED

LINK = '<a href="http://x">y</a>'
BOLD = "<b>z</b>"
LINK_SHOWN = '&lt;a href="http://x"&gt;y&lt;/a&gt;'
BOLD_SHOWN = "&lt;b&gt;z&lt;/b&gt;"
LABELS = parse_labels(f"{BOLD},person,{LINK}")


def strings(value: Any, skip: tuple[str, ...] = ()) -> Iterator[str]:
    """Every string in a figure's JSON (except under the keys in `skip`)."""
    if hasattr(value, "to_plotly_json"):
        value = value.to_plotly_json()
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                yield from strings(item, skip)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item, skip)
    elif hasattr(value, "tolist"):  # numpy arrays of category names
        yield from strings(value.tolist(), skip)


def assert_escaped(figure: Any, *shown: str, skip: tuple[str, ...] = ()) -> None:
    found = list(strings(figure, skip))
    assert not [s for s in found if LINK in s or BOLD in s or "<a " in s or "<b>" in s]
    for text in shown:
        assert any(text in s for s in found), text


def record(key: str, who: str, label: str, box: tuple[float, ...], number: int = 0) -> Annotation:
    return Annotation(
        id=f"{who}-{key}-{number}",
        image_key=key,
        annotator=who,
        label=label,
        kind="rect",
        coords=box,
        created_at=CREATED,
        updated_at=CREATED,
    )


def report(tmp_path: Path) -> dict[str, Any]:
    """An agreement report of two annotators named like HTML, one label named like HTML."""
    folder = tmp_path / "images"
    folder.mkdir(parents=True)
    for name in ("a.png", "b.png"):
        Image.new("RGB", (400, 200)).save(folder / name)
    services = install_services(tmp_path, LABELS=",".join(label.name for label in LABELS))
    work = {
        LINK: [(BOLD, (10.0, 10.0, 110.0, 110.0)), ("person", (200.0, 20.0, 300.0, 120.0))],
        BOLD: [(BOLD, (12.0, 12.0, 112.0, 112.0)), (LINK, (200.0, 20.0, 300.0, 120.0))],
    }
    for key in ("a.png", "b.png"):
        for who, shapes in work.items():
            records = [record(key, who, label, box, n) for n, (label, box) in enumerate(shapes)]
            services.store.sync_image(key, who, records)
    data, _key, message = agreement.agreement_job(0.5, None, lambda done, what: None)
    assert message.color == "success"
    assert sorted(data["annotators"]) == sorted([LINK, BOLD])
    return data


def test_the_report_figures_show_annotator_and_label_names_as_text(tmp_path: Path) -> None:
    data = report(tmp_path)

    _style, _cards, area, edges, misses, *_ = call(
        agreement.show_report, "agreement-report.data", data, None
    )
    heatmap = tab.pair_heatmap(data, "f1")
    confusion = tab.confusion_figure(data, LINK)

    for figure in (heatmap, area, edges, misses):
        assert_escaped(figure, LINK_SHOWN, BOLD_SHOWN)
    assert_escaped(confusion, LINK_SHOWN, BOLD_SHOWN, "person")
    assert confusion.layout.xaxis.title.text == f"{LINK_SHOWN}'s label"
    assert {trace.name for trace in area.data} == {LINK_SHOWN, BOLD_SHOWN}
    assert set(misses.data[0].x) == {LINK_SHOWN, BOLD_SHOWN}


def test_the_confusion_dropdown_still_lists_and_finds_the_real_names(tmp_path: Path) -> None:
    data = report(tmp_path)

    options, chosen = tab.confusion_choices(data, BOLD)
    figure = tab.confusion_figure(data, chosen)

    assert chosen == BOLD and {o["label"] for o in options} == {LINK, BOLD}  # React shows text
    assert figure.data[0].z is not None and len(figure.data[0].z) > 0  # the row was found


def test_the_comparison_view_shows_names_labels_and_messages_as_text(tmp_path: Path) -> None:
    key = "<b>file</b>.png"
    records = [
        record(key, LINK, BOLD, (1.0, 2.0, 30.0, 40.0)),
        record(key, BOLD, LINK, (1.0, 2.0, 30.0, 40.0)),
    ]

    figure = tab.comparison_figure(
        key, None, (100, 100), records, [LINK, BOLD], [LINK, BOLD], f"cannot read {key}"
    )

    assert_escaped(
        figure, LINK_SHOWN, BOLD_SHOWN, "&lt;b&gt;file&lt;/b&gt;.png", skip=("uirevision",)
    )
    assert [t["name"] for t in figure["data"][1:]] == [LINK_SHOWN, BOLD_SHOWN]
    assert [s["label"]["text"] for s in figure["layout"]["shapes"]] == [BOLD_SHOWN, LINK_SHOWN]


def test_the_annotate_figure_shows_labels_and_messages_as_text() -> None:
    key = "<b>file</b>.png"
    records = (record(key, "alice", BOLD, (1.0, 2.0, 30.0, 40.0)),)

    figure = image_figure(
        key, "/images/x", 100, 100, shapes_of(records, LABELS, set()), newshape_for(LINK, LABELS),
        f"{key} could not be read",
    )  # fmt: skip

    assert_escaped(figure, BOLD_SHOWN, LINK_SHOWN, skip=("uirevision", "name"))
    assert figure["layout"]["shapes"][0]["label"]["text"] == BOLD_SHOWN
    assert figure["layout"]["newshape"]["label"]["text"] == LINK_SHOWN
    assert figure["layout"]["annotations"][0]["text"].startswith("&lt;b&gt;file")


def test_suggestion_outlines_show_the_label_as_text_and_no_template_runs() -> None:
    suggestion = Suggestion("s1", BOLD, "rect", (1.0, 2.0, 30.0, 40.0), (), 0.87, "model:m@1")
    sneaky = Suggestion("s2", "%{customdata}", "rect", (1.0, 2.0, 30.0, 40.0), (), 0.5, "m")

    traces = suggestion_traces((suggestion, sneaky), LABELS)

    assert_escaped(traces[0], f"{BOLD_SHOWN} 0.87")
    assert traces[0]["hovertemplate"] == f"suggested {BOLD_SHOWN} 0.87<extra></extra>"
    assert "%{customdata}" not in traces[1]["hovertemplate"]


def test_plain_names_are_unchanged_and_ampersands_show_once() -> None:
    assert plot_text("person") == "person"
    assert plot_text("cats & dogs") == "cats &amp; dogs"  # Plotly shows "cats & dogs"
    assert plot_text('say "hi"') == 'say "hi"'  # Plotly does not decode &quot;


def test_a_shape_drawn_with_an_html_like_label_keeps_the_real_label(new_id: Any) -> None:
    canvas = Canvas("a.png", 400, 200, "alice")
    drawn = {"type": "rect", "x0": 10, "y0": 20, "x1": 110, "y1": 120}
    drawn["label"] = newshape_for(BOLD, LABELS)["label"]  # what plotly sends back

    change = parse_relayout({"shapes": [drawn]}, [])
    result = apply_shape_change((), change, canvas, LABELS, BOLD, CREATED, new_id)

    assert drawn["label"]["text"] == BOLD_SHOWN
    assert [r.label for r in result.records] == [BOLD] and result.problems == ()
