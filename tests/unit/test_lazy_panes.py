"""Hidden tabs are built in the browser only when first opened (issue 17, the first load):
every tab but Annotate holds its content in a LazyPane that is not shown at load, and one
clientside callback shows a tab's pane when it is opened. The page asks for its layout and
callback map while its scripts load."""

from __future__ import annotations

import dash
import pytest

import delivery
from components import ids
from components.layout import build_layout
from components.lazy_pane import LazyPane
from domain.accounts import Role, Viewer
from domain.labels import Label

LABELS = (Label("cat", "#ff0000"), Label("dog", "#0000ff"))


def _tabs(viewer: Viewer) -> dict[str, object]:
    page = build_layout(LABELS, viewer)
    tabs = next(c for c in page._traverse() if getattr(c, "id", None) == ids.TABS)
    return {tab.tab_id: tab.children for tab in tabs.children}


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.REVIEWER, Role.ADMIN])
def test_every_tab_but_annotate_is_built_when_opened(role: Role) -> None:
    tabs = _tabs(Viewer("ann", role, True))
    assert not isinstance(tabs.pop(ids.TAB_ANNOTATE), LazyPane)
    assert tabs, "the viewer has other tabs"
    for tab_id, content in tabs.items():
        assert isinstance(content, LazyPane), tab_id
        assert content.id == {"type": ids.LAZY_PANE, "tab": tab_id}
        assert content.shown is False  # nothing of it is built at load
        assert content.children, f"{tab_id}: the tab's content is in the layout"


def test_a_pane_keeps_its_content_in_the_layout_for_callbacks() -> None:
    """Callbacks may fill a tab before it is opened: its components are in the layout."""
    tabs = _tabs(Viewer("ann", Role.ADMIN, True))
    admin = tabs[ids.TAB_ADMIN]
    inside = [getattr(c, "id", None) for c in admin._traverse()]  # type: ignore[attr-defined]
    assert ids.ADMIN_USERS in inside
    as_json = admin.to_plotly_json()  # type: ignore[attr-defined]
    assert as_json["namespace"] == "concord_components" and as_json["type"] == "LazyPane"
    assert as_json["props"]["shown"] is False


def test_opening_a_tab_or_the_first_picture_shows_a_pane_in_the_browser(dash_app) -> None:
    shows = {
        str(spec["output"]): spec
        for spec in dash_app._callback_list
        if "shown" in str(spec["output"]) and spec.get("clientside_function")
    }
    tabs = shows['{"tab":["ALL"],"type":"lazy-pane"}.shown']
    assert tabs["inputs"] == [{"id": ids.TABS, "property": "active_tab"}]
    assert tabs["prevent_initial_call"] is True  # Annotate, shown at load, is not a pane
    side = shows[f"{ids.SIDE_PANE}.shown"]
    assert side["inputs"] == [{"id": ids.GRAPH, "property": "figure"}]
    assert side["prevent_initial_call"] is True  # the waiting figure has no picture
    assert len(shows) == 2


def test_the_side_column_waits_for_the_picture_keeping_its_place() -> None:
    page = build_layout(LABELS, Viewer("ann", Role.ANNOTATOR, True))
    pane = next(c for c in page._traverse() if getattr(c, "id", None) == ids.SIDE_PANE)
    assert isinstance(pane, LazyPane) and pane.shown is False
    inside = [getattr(c, "id", None) for c in pane._traverse()]
    for part in (ids.GRID, ids.SUGGEST_BUTTON, ids.HISTORY_UNDO, ids.PROGRESS, ids.SAVE_STATUS):
        assert part in inside, part
    graph = next(c for c in page._traverse() if getattr(c, "id", None) == ids.GRAPH)
    assert graph.id not in inside  # the picture itself is built at once
    assert pane.style == {"minHeight": graph.style["height"]}


def test_the_page_template_preloads_layout_and_callback_map() -> None:
    index = delivery.with_preloads(dash.Dash(__name__).index_string, "/app/")
    head = index.split("</head>")[0]
    assert '<link rel="preload" href="/app/_dash-layout" as="fetch"' in head
    assert '<link rel="preload" href="/app/_dash-dependencies" as="fetch"' in head
    assert head.index("{%css%}") < head.index("_dash-layout")
    with pytest.raises(ValueError, match="css"):
        delivery.with_preloads("<html><head></head></html>", "/")
