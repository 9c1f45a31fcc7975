"""`callback`: dash.callback for callbacks that touch a project's data. Each gets the page's
project store as its last State and runs inside that project (storage.runtime's scope), in
the request or in a background job's process alike. auth/project_access.py checks, before
the request runs, that the person asking may work in the project it names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import dash
from dash import State

from components import ids
from storage.runtime import project_scope

F = TypeVar("F", bound=Callable[..., Any])


def callback(*args: Any, **kwargs: Any) -> Callable[[F], F]:
    """Register a server callback that works in the page's project; the function is
    returned as it is (tests call it directly, in the project they chose)."""

    def register(func: F) -> F:
        def in_project(*values: Any) -> Any:
            *given, slug = values
            with project_scope(slug if isinstance(slug, str) and slug else None):
                return func(*given)

        in_project.__name__ = func.__name__
        in_project.__qualname__ = func.__qualname__
        in_project.__module__ = func.__module__
        in_project.__doc__ = func.__doc__
        dash.callback(*args, State(ids.PROJECT, "data"), **kwargs)(in_project)
        return func

    return register
