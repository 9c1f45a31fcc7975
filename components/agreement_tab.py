"""The Agreement tab: its layout, and its cards and figures built from the report's JSON.

Every builder takes the dict the Compute job stores (analysis.report.AgreementReport.to_json()
plus "distributions" and "ranking", see callbacks/agreement.py), so none of them needs the
store or the analysis objects. Annotators keep one colour and line dash everywhere, in the
order of the report's (sorted) annotator list. Names and labels go into figures through
components.plot_text, so Plotly shows them as text, never as links or formatting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import fmean
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html
from plotly.subplots import make_subplots

from components import ids
from components.figure import image_figure, legend_entry, rgba, shape_of
from components.grid import SINGLE_ROW_SELECTION
from components.plot_text import plot_text
from domain.annotation import Annotation

Data = Mapping[str, Any]

THRESHOLD_DEFAULT = 0.5
THRESHOLD_MIN = 0.3
THRESHOLD_MAX = 0.95
THRESHOLD_STEP = 0.05

# Distinct from the label colours (Okabe-Ito): the D3 palette and a line dash, both cycling
# (10 and 6 long), so the first 30 annotators all get a different (colour, dash) pair.
PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#e377c2",
    "#8c564b",
    "#bcbd22",
    "#7f7f7f",
)
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
# CSS has fewer border styles than plotly has dashes: the legend swatch is an approximation.
CSS_DASHES = {"solid": "solid", "dot": "dotted"}

METRICS = {
    "f1": "Object F1",
    "mean_iou": "Mean IoU of matched objects",
    "label_kappa": "Label kappa (Cohen)",
    "f1_over_thresholds": "F1 averaged over IoU 0.50:0.95",
}
EDGE_NAMES = ("left", "right", "top", "bottom")
COMPARE_CONFIG: dict[str, Any] = {
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "scrollZoom": True,
    "displaylogo": False,
    "displayModeBar": True,
}
EMPTY_FIGURE: dict[str, Any] = {
    "data": [],
    "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False}, "height": 320},
}


def style_of(annotator: str, annotators: Sequence[str]) -> tuple[str, str]:
    """(colour, plotly dash) of an annotator, by position in the report's annotator list."""
    index = list(annotators).index(annotator) if annotator in annotators else len(annotators)
    return PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]


def number(value: float | None, digits: int = 2) -> str:
    """A rounded number, or an em dash when undefined (None in the report's JSON)."""
    return "—" if value is None else f"{value:.{digits}f}"


# ---------------------------------------------------------------- layout


def _controls() -> dbc.Row:
    marks = {
        round(
            THRESHOLD_MIN + THRESHOLD_STEP * step, 2
        ): f"{THRESHOLD_MIN + THRESHOLD_STEP * step:.2f}"
        for step in range(0, 14, 2)
    }
    return dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label(
                        "IoU threshold: two shapes are the same object when their overlap "
                        "(intersection over union) reaches it",
                        html_for=ids.AGREEMENT_THRESHOLD,
                        className="small mb-1",
                    ),
                    dcc.Slider(
                        id=ids.AGREEMENT_THRESHOLD,
                        min=THRESHOLD_MIN,
                        max=THRESHOLD_MAX,
                        step=THRESHOLD_STEP,
                        value=THRESHOLD_DEFAULT,
                        marks=marks,
                        tooltip={"placement": "bottom", "always_visible": False},
                    ),
                    dbc.Switch(
                        id=ids.AGREEMENT_WITHOUT_SUGGESTIONS,
                        label="Leave out shapes accepted unchanged from a model's suggestions",
                        value=False,
                        className="small mt-2",
                    ),
                ],
                lg=6,
            ),
            dbc.Col(
                [
                    dbc.Button(
                        "Compute", id=ids.AGREEMENT_COMPUTE, color="primary", className="me-2"
                    ),
                    dbc.Button(
                        "Download metrics (CSV)",
                        id=ids.AGREEMENT_DOWNLOAD_BUTTON,
                        color="secondary",
                        outline=True,
                        disabled=True,
                    ),
                    dcc.Download(id=ids.AGREEMENT_DOWNLOAD),
                ],
                lg=6,
                className="d-flex align-items-center",
            ),
        ],
        className="align-items-center",
    )


def _graph(component_id: str, height: str = "340px") -> dcc.Graph:
    return dcc.Graph(
        id=component_id,
        figure=EMPTY_FIGURE,
        config={"displaylogo": False},
        style={"height": height},
    )


def _ranking_grid() -> dag.AgGrid:
    return dag.AgGrid(
        id=ids.AGREEMENT_IMAGES,
        columnDefs=[
            {"field": "rank", "headerName": "#", "width": 60},
            {"field": "image", "headerName": "Image", "flex": 2, "tooltipField": "image"},
            {
                "field": "disagreement",
                "headerName": "Disagreement",
                "width": 130,
                "headerTooltip": "1 - mean pairwise F1 of objects matched with the same label",
            },
            {"field": "annotators", "headerName": "Annotators", "flex": 1},
            {"field": "objects", "headerName": "Shapes", "width": 90},
        ],
        rowData=[],
        getRowId="params.data.image",
        defaultColDef={"resizable": True, "sortable": True, "suppressMovable": True},
        dashGridOptions={
            "rowSelection": SINGLE_ROW_SELECTION,
            "localeText": {"noRowsToShow": "No image was finished by two or more annotators"},
            "tooltipShowDelay": 300,
        },
        style={"height": "420px"},
    )


def agreement_tab() -> html.Div:
    """The Agreement tab's body; a callback fills it in after Compute."""
    results = html.Div(
        [
            dbc.Row(id=ids.AGREEMENT_CARDS, className="g-3 mb-3"),
            html.Div(id=ids.AGREEMENT_INTRA, className="mb-3"),
            html.Div(id=ids.AGREEMENT_MODELS, className="mb-3"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H6("Pairwise agreement"),
                            dbc.RadioItems(
                                id=ids.AGREEMENT_METRIC,
                                options=[{"label": v, "value": k} for k, v in METRICS.items()],
                                value="f1",
                                inline=True,
                                className="small",
                            ),
                            _graph(ids.AGREEMENT_HEATMAP, "380px"),
                        ],
                        lg=6,
                    ),
                    dbc.Col(
                        [
                            html.H6("Label confusion against the others' consensus"),
                            dcc.Dropdown(
                                id=ids.AGREEMENT_CONFUSION_WHO,
                                options=[],
                                clearable=False,
                                placeholder="Annotator…",
                            ),
                            _graph(ids.AGREEMENT_CONFUSION, "350px"),
                        ],
                        lg=6,
                    ),
                ],
                className="mb-3",
            ),
            html.H6("Annotator bias against the others' consensus (matched objects)"),
            dbc.Row(
                [
                    dbc.Col(_graph(ids.AGREEMENT_AREA), lg=4),
                    dbc.Col(_graph(ids.AGREEMENT_EDGES), lg=4),
                    dbc.Col(_graph(ids.AGREEMENT_MISSES), lg=4),
                ],
                className="mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H6("Images by disagreement (click one to compare)"),
                            _ranking_grid(),
                        ],
                        lg=5,
                    ),
                    dbc.Col(
                        html.Div(
                            id=ids.AGREEMENT_COMPARE,
                            children=html.P(
                                "Click an image to see every annotator's shapes on it.",
                                className="text-muted small",
                            ),
                        ),
                        lg=7,
                    ),
                ]
            ),
        ],
        id=ids.AGREEMENT_RESULTS,
        style={"display": "none"},
    )
    return html.Div(
        [
            dcc.Store(id=ids.AGREEMENT_REPORT),
            dcc.Store(id=ids.AGREEMENT_CACHE_KEY),
            _controls(),
            dbc.Progress(
                id=ids.AGREEMENT_PROGRESS, value=0, className="mt-2", style={"display": "none"}
            ),
            html.Div(
                "Press Compute to measure how well the annotators agree.",
                id=ids.AGREEMENT_STATUS,
                className="small my-2",
            ),
            results,
        ],
        className="pt-3",
    )


# ---------------------------------------------------------------- cards


def _card(title: str, value: str, detail: str, card_id: str) -> dbc.Col:
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(title, className="small text-muted"),
                    html.Div(value, className="fs-3 fw-semibold agreement-value"),
                    html.Div(detail, className="small"),
                ]
            ),
            id=card_id,
        ),
        md=4,
    )


def mean_pairwise(data: Data, metric: str = "f1") -> float | None:
    """The mean of a pairwise measure over the annotator pairs where it is defined."""
    values = [pair[metric] for pair in data.get("pairwise", []) if pair.get(metric) is not None]
    return fmean(values) if values else None


# why the label alpha card shows no number (null_reasons codes of analysis.report_json)
UNDEFINED_ALPHA = {
    "no_shared_images": "no image has 2+ annotators yet",
    "no_pairable_values": "no object was seen by two annotators",
    "one_category": "every label given is the same, so there is nothing to tell apart",
}


def summary_cards(data: Data) -> list[dbc.Col]:
    """Label alpha with its 95 % interval, mean pairwise F1, images with 2+ annotators."""
    alpha = data["label_alpha"]
    reasons = data.get("null_reasons") or {}
    if alpha["value"] is None:
        interval = "undefined: " + UNDEFINED_ALPHA.get(
            reasons.get("label_alpha.value", ""), "no data"
        )
    elif alpha["ci_low"] is None:
        interval = "no interval (" + reasons.get("label_alpha.ci_low", "not computed") + ")"
    else:
        interval = f"95% CI {number(alpha['ci_low'])} to {number(alpha['ci_high'])}"
    pairs = len(data.get("pairwise", []))
    threshold = f"IoU ≥ {data['iou_threshold']:.2f}"
    return [
        _card("Label agreement (Krippendorff's α)", number(alpha["value"]), interval, "card-alpha"),
        _card(
            "Mean pairwise F1",
            number(mean_pairwise(data)),
            f"over {pairs} annotator pair(s), {threshold}",
            "card-f1",
        ),
        _card(
            "Images with 2+ annotators",
            f"{data['images']:,}",
            f"{len(data['annotators'])} annotator(s) in all",
            "card-images",
        ),
    ]


# ---------------------------------------------------------------- figures


def pair_matrix(data: Data, metric: str) -> list[list[float | None]]:
    """Annotator x annotator values of a pairwise measure (symmetric; None: undefined)."""
    names = list(data["annotators"])
    where = {name: index for index, name in enumerate(names)}
    matrix: list[list[float | None]] = [[None] * len(names) for _ in names]
    for pair in data.get("pairwise", []):
        i, j = where[pair["a"]], where[pair["b"]]
        matrix[i][j] = matrix[j][i] = pair.get(metric)
    return matrix


def pair_heatmap(data: Data, metric: str) -> go.Figure:
    """The pairwise heatmap of one measure, values written in the cells."""
    metric = metric if metric in METRICS else "f1"
    names = [plot_text(name) for name in data["annotators"]]
    matrix = pair_matrix(data, metric)
    text = [["" if v is None else f"{v:.2f}" for v in row] for row in matrix]
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            colorscale="Viridis",
            zmin=-1.0 if metric == "label_kappa" else 0.0,
            zmax=1.0,
            hovertemplate="%{y} vs %{x}: %{z:.3f}<extra></extra>",
            colorbar={"title": {"text": METRICS[metric]}},
        )
    )
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"autorange": "reversed", "type": "category"},
        xaxis={"type": "category"},
    )
    return figure


def _bias_layout(figure: go.Figure, title: str, y_title: str) -> go.Figure:
    figure.update_layout(
        title={"text": title, "font": {"size": 14}},
        yaxis_title=y_title,
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
        showlegend=len(figure.data) > 1,
        legend={"orientation": "h", "y": -0.15},
    )
    return figure


def area_figure(data: Data) -> go.Figure:
    """Box plots of each annotator's log area ratio against the consensus (0: same size)."""
    names = list(data["annotators"])
    figure = go.Figure()
    for name in names:
        color, _ = style_of(name, names)
        values = data.get("distributions", {}).get(name, {}).get("log_area_ratio", [])
        figure.add_trace(
            go.Box(
                y=values,
                name=plot_text(name),
                marker_color=color,
                boxpoints="outliers",
                showlegend=False,
            )
        )
    figure.add_hline(y=0, line={"color": "#888", "dash": "dot"})
    return _bias_layout(figure, "Size: ln(area / consensus area)", "log area ratio")


def edges_figure(data: Data) -> go.Figure:
    """Grouped box plots of the four edge offsets per annotator (positive: edge outside)."""
    names = list(data["annotators"])
    figure = go.Figure()
    for name in names:
        color, _ = style_of(name, names)
        found = data.get("distributions", {}).get(name, {})
        xs = [edge for edge in EDGE_NAMES for _ in found.get(edge, [])]
        ys = [value for edge in EDGE_NAMES for value in found.get(edge, [])]
        figure.add_trace(
            go.Box(x=xs, y=ys, name=plot_text(name), marker_color=color, boxpoints=False)
        )
    figure.add_hline(y=0, line={"color": "#888", "dash": "dot"})
    figure.update_layout(
        boxmode="group", xaxis={"categoryorder": "array", "categoryarray": EDGE_NAMES}
    )
    return _bias_layout(figure, "Edges: offset / consensus size (+ outside)", "edge offset")


def misses_figure(data: Data) -> go.Figure:
    """Bars of each annotator's miss rate and extra shapes per image."""
    rows = list(data.get("per_annotator", []))
    colors = [style_of(row["annotator"], data["annotators"])[0] for row in rows]
    names = [plot_text(row["annotator"]) for row in rows]
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Miss rate", "Extra shapes per image"))
    figure.add_trace(
        go.Bar(
            x=names, y=[row["miss_rate"] for row in rows], marker_color=colors, name="miss rate"
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Bar(
            x=names,
            y=[row["extra_per_image"] for row in rows],
            marker_color=colors,
            name="extras per image",
        ),
        row=1,
        col=2,
    )
    figure.update_yaxes(range=[0, 1], row=1, col=1)
    figure.update_yaxes(rangemode="tozero", row=1, col=2)
    figure.update_annotations(font={"size": 14})
    figure.update_layout(
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        showlegend=False,
    )
    return figure


def confusion_choices(data: Data, chosen: str | None) -> tuple[list[dict[str, str]], str | None]:
    """Dropdown options (the report's annotators) and the value to keep or pick."""
    names = list(data.get("annotators", []))
    options = [{"label": name, "value": name} for name in names]
    return options, chosen if chosen in names else (names[0] if names else None)


def confusion_figure(data: Data, annotator: str | None) -> go.Figure:
    """Row-normalised confusion of one annotator: rows = consensus label, columns = theirs."""
    found = next((r for r in data.get("per_annotator", []) if r["annotator"] == annotator), None)
    labels = [plot_text(label) for label in found["confusion"]["labels"]] if found else []
    matrix = found["confusion"]["matrix"] if found else []
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=labels,
            y=labels,
            text=[["" if v is None else f"{v:.2f}" for v in row] for row in matrix],
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0.0,
            zmax=1.0,
            hovertemplate="consensus %{y}, drawn as %{x}: %{z:.2f}<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis={"title": {"text": f"{plot_text(annotator or '')}'s label"}, "type": "category"},
        yaxis={"title": {"text": "consensus label"}, "autorange": "reversed", "type": "category"},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
    )
    if not labels:
        figure.add_annotation(
            text="No matched objects", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5
        )
    return figure


def ranking_rows(data: Data) -> list[dict[str, Any]]:
    """Rows of the disagreement table, most disagreed first."""
    return [
        {
            "rank": rank,
            "image": item["image"],
            "disagreement": round(item["score"], 3),
            "annotators": ", ".join(item["annotators"]),
            "objects": item["objects"],
        }
        for rank, item in enumerate(data.get("ranking", []), start=1)
    ]


# ---------------------------------------------------------------- comparison view


def comparison_shapes(
    records: Sequence[Annotation], annotators: Sequence[str]
) -> list[dict[str, Any]]:
    """Read-only plotly shapes, each in its annotator's colour and dash, named by annotator."""
    shapes = []
    for record in records:
        color, dash = style_of(record.annotator, annotators)
        shape = shape_of(record, color)
        closed = record.kind in ("rect", "circle", "polygon")
        shape.update(
            name=plot_text(record.annotator),
            editable=False,
            line={"color": color, "width": 2, "dash": dash},
            fillcolor=rgba(color, 0.06) if closed else "rgba(0,0,0,0)",
        )
        shapes.append(shape)
    return shapes


def comparison_figure(
    key: str,
    url: str | None,
    size: tuple[int, int],
    records: Sequence[Annotation],
    annotators: Sequence[str],
    shown: Sequence[str],
    message: str | None = None,
) -> dict[str, Any]:
    """The image by URL with every annotator's shapes; a legend entry per annotator shown."""
    figure = image_figure(
        key, url, size[0], size[1], comparison_shapes(records, annotators), {}, message
    )
    layout = figure["layout"]
    layout.pop("newshape")
    layout.update(
        dragmode="pan",
        showlegend=True,
        legend={
            "orientation": "h",
            "x": 0,
            "y": 1.0,
            "yanchor": "bottom",
            "itemclick": False,
            "itemdoubleclick": False,
        },
        margin={"l": 45, "r": 10, "t": 30, "b": 30},
    )
    for name in shown:  # legend keys only: shapes have no legend of their own
        color, dash = style_of(name, annotators)
        figure["data"].append(legend_entry(name, color, dash))
    return figure


def _swatch(color: str, dash: str) -> html.Span:
    border = f"3px {CSS_DASHES.get(dash, 'dashed')} {color}"
    return html.Span(className="annotator-swatch me-2", style={"borderTop": border})


def comparison_view(
    key: str,
    url: str | None,
    size: tuple[int, int],
    records: Sequence[Annotation],
    annotators: Sequence[str],
    shown: Sequence[str],
    message: str | None = None,
) -> html.Div:
    """Title, one line per annotator (style, name, shape count) and the read-only figure.

    The Div's key is the image key: React mounts a fresh graph per image, so the axes
    always fit the new image's aspect.
    """
    counts = {name: sum(r.annotator == name for r in records) for name in shown}
    names = [
        html.Li(
            [
                _swatch(*style_of(name, annotators)),
                html.Span(name, className="fw-semibold me-1"),
                html.Span(
                    f"{counts[name]} shape(s)" if counts[name] else "no objects",
                    className="text-muted",
                ),
            ],
            className="annotator-key",
        )
        for name in shown
    ]
    return html.Div(
        [
            html.H6(f"All annotators on {key}"),
            html.Ul(names, className="list-unstyled small mb-1 d-flex flex-wrap gap-3"),
            dcc.Graph(
                id=ids.AGREEMENT_COMPARE_GRAPH,
                figure=comparison_figure(key, url, size, records, annotators, shown, message),
                config=COMPARE_CONFIG,
                style={"height": "60vh"},
                className="border",
            ),
        ],
        key=key,
    )


def intra_rater_table(rows: list[dict[str, Any]]) -> object:
    """Each annotator against their own second pass, when images came back to them."""
    if not rows:
        return html.Div()
    head = html.Thead(
        html.Tr(
            [html.Th(t) for t in ("Annotator", "Images twice", "Label alpha", "F1", "Mean IoU")]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(r["annotator"]),
                    html.Td(f"{r['images']:,}"),
                    html.Td(number(r["label_alpha"], 3)),
                    html.Td(number(r["f1"], 3)),
                    html.Td(number(r["mean_iou"], 3)),
                ]
            )
            for r in rows
        ]
    )
    return html.Div(
        [
            html.H6("Same annotator twice (intra-rater, on images that came back)"),
            html.Table([head, body], className="table table-sm small mb-0"),
        ]
    )


def models_table(rows: list[dict[str, Any]]) -> object:
    """Each detector measured like an annotator, against the people's consensus."""
    if not rows:
        return html.Div()
    titles = ("Model", "Version", "Images", "Precision", "Recall", "F1", "Label kappa")
    head = html.Thead(html.Tr([html.Th(t) for t in titles]))
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(r["name"]),
                    html.Td(r["version"] or "-"),
                    html.Td(f"{r['images']:,}"),
                    html.Td(number(r["precision"], 3)),
                    html.Td(number(r["recall"], 3)),
                    html.Td(number(r["f1"], 3)),
                    html.Td(number(r["label_kappa"], 3)),
                ],
                title="; ".join(
                    f"{item['label']}: precision {number(item['precision'], 2)}, "
                    f"recall {number(item['recall'], 2)}"
                    for item in r["per_label"]
                ),
            )
            for r in rows
        ]
    )
    return html.Div(
        [
            html.H6("Models against the people's consensus (not part of the people's alpha)"),
            html.Table([head, body], className="table table-sm small mb-0"),
        ]
    )


def gold_table(data: Data) -> object:
    """Each annotator and model against gold (the reviewed annotations), when any image has
    finished gold; per-label precision and recall in each row's tooltip."""
    rows = [
        (row["annotator"], row["vs_gold"])
        for row in (*(data.get("per_annotator") or ()), *(data.get("models") or ()))
        if row.get("vs_gold")
    ]
    if not data.get("images_with_gold") or not rows:
        return html.Div()
    titles = (
        "Annotator",
        "Images with gold",
        "Precision",
        "Recall",
        "F1",
        "Mean IoU",
        "Label accuracy",
    )
    head = html.Thead(html.Tr([html.Th(t) for t in titles]))
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(who),
                    html.Td(f"{gold['images']:,}"),
                    html.Td(number(gold["precision"], 3)),
                    html.Td(number(gold["recall"], 3)),
                    html.Td(number(gold["f1"], 3)),
                    html.Td(number(gold["mean_iou"], 3)),
                    html.Td(number(gold["label_accuracy"], 3)),
                ],
                title="; ".join(
                    f"{item['label']}: precision {number(item['precision'], 2)}, "
                    f"recall {number(item['recall'], 2)}"
                    for item in gold["per_label"]
                ),
            )
            for who, gold in rows
        ]
    )
    return html.Div(
        [
            html.H6(
                f"Against gold (reviewed annotations on {data['images_with_gold']:,} image(s); "
                "gold is never counted as an annotator)"
            ),
            html.Table([head, body], className="table table-sm small mb-0"),
        ],
        className="mb-3",
    )
