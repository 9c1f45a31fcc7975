"""A pane whose children the browser mounts only once it has been shown (assets/lazy_pane.js).

Dash mounts every tab's content at load, hidden or not: each grid, graph and input is built
and listens to the page's store. Wrapped in a LazyPane, a hidden tab's content stays in the
layout (callbacks may update it) but is mounted only when the tab is first opened; the
Annotate view's side column (suggestions, the shapes table, history, progress), once the
first picture is on screen (the picture is what a labeler waits for; building the side
column, its grid above all, takes the page about 0.1-0.15 s)."""

from __future__ import annotations

from typing import Any

from dash.development.base_component import Component

from components import ids


class LazyPane(Component):
    """A div whose children are mounted once `shown` has been true."""

    _namespace = "concord_components"
    _type = "LazyPane"
    _children_props: list[str] = []
    _base_nodes = ["children"]

    def __init__(
        self,
        children: Any = None,
        id: Any = None,  # noqa: A002 (Dash's name)
        shown: bool = False,
        className: str | None = None,  # noqa: N803 (Dash's name)
        style: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._prop_names = ["children", "id", "shown", "className", "style"]
        self._valid_wildcard_attributes: list[str] = []
        self.available_properties = list(self._prop_names)
        self.available_wildcard_properties: list[str] = []
        arguments = {
            "children": children,
            "id": id,
            "shown": shown,
            "className": className,
            "style": style,
        }
        super().__init__(**{k: v for k, v in arguments.items() if v is not None}, **kwargs)


def tab_pane(tab_id: str, children: Any) -> LazyPane:
    """The content of a tab other than the first, mounted when the tab is first opened."""
    return LazyPane(children, id={"type": ids.LAZY_PANE, "tab": tab_id})


def after_picture(pane_id: str, children: Any, min_height: str) -> LazyPane:
    """Content mounted once the annotate figure's first picture shows; the pane keeps its
    height meanwhile, so nothing below it moves."""
    return LazyPane(children, id=pane_id, style={"minHeight": min_height})
