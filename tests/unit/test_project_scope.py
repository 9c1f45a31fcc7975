"""Every server callback works in the project its page names, and what the browser keeps in
local storage (the records and the position, shared by every project open in the same
browser) is never used in another project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dash import Input, Output
from dash.exceptions import PreventUpdate

from auth import scoped
from callbacks import annotations, navigation
from components import ids
from domain.annotation import Annotation
from domain.projects import Project
from domain.records_state import RecordsState, state_from_data
from jobs import fanout_tasks
from storage.runtime import Services, active_slug, current, detach_after_fork, project_scope
from tests.unit.callback_support import call, install_services, make_batch

KEY = "img01.jpg"  # the same key in both projects' folders
BOX = Annotation("a-1", KEY, "alice", "person", "rect", (10, 20, 110, 80))
BUTTONS = ("prev", "next", "jump", "no-objects", "skip", "batch", "refresh-listing")


@pytest.fixture()
def services(tmp_path: Path) -> Services:
    """The first project ("default", tmp/images) and project "b" (data/images/b), each
    with images img01..img03.jpg."""
    make_batch(tmp_path / "images", [(400, 300), (640, 480), (200, 200)])
    found = install_services(tmp_path)
    make_batch(found.settings.image_root / "b", [(400, 300), (640, 480), (200, 200)])
    found.projects.create(Project(0, "b", "Project B", image_source="b", open_to_all=True))
    return found


def records_of(slug: str) -> dict[str, Any]:
    """alice's unsaved box on img01.jpg, as the records store holds it in project `slug`."""
    return RecordsState(KEY, "alice", (BOX,), unsaved=True, known=(), project=slug).to_data()


def image_view(slug: str | None) -> dict[str, Any]:
    with project_scope(slug):
        view, _text = call(navigation.show_image, "position-store.data", at(KEY))
        return view


def at(key: str, slug: str | None = None) -> dict[str, Any]:
    place: dict[str, Any] = {"batch": "", "key": key, "index": None}
    return place if slug is None else {**place, "project": slug}


def stored(slug: str | None) -> list[Annotation]:
    with project_scope(slug):
        return current().store.annotations_for(KEY, "alice")


def test_unsaved_records_of_another_project_are_not_saved_on_opening(services) -> None:
    view = image_view("b")
    with project_scope("b"):
        loaded = annotations.load_records(view, "alice", records_of("default"), "tab-1")
    assert stored("b") == []  # not saved into b's image of the same key
    assert stored(None) == []
    state = state_from_data(loaded)
    assert (state.image_key, state.records, state.project) == (KEY, (), "b")

    with project_scope("b"):  # b's own unsaved records are saved, as before projects
        annotations.load_records(view, "alice", records_of("b"), "tab-1")
    assert [r.id for r in stored("b")] == ["a-1"]
    assert stored(None) == []


def test_records_written_before_projects_count_as_the_first_projects(services) -> None:
    unmarked = {k: v for k, v in records_of("default").items() if k != "project"}
    with project_scope("b"):
        annotations.load_records(image_view("b"), "alice", unmarked, "tab-1")
    assert stored("b") == []
    annotations.load_records(image_view(None), "alice", unmarked, "tab-1")
    assert [r.id for r in stored(None)] == ["a-1"]


def test_another_projects_records_are_never_retried_nor_edited_here(services) -> None:
    view, foreign = image_view("b"), records_of("default")
    with project_scope("b"):
        with pytest.raises(PreventUpdate):
            call(annotations.retry_save, "retry.n_clicks", 1, None, foreign, "tab-1")
    assert stored("b") == [] and stored(None) == []

    # b's page shows b's own box; a tab of the first project then wrote the shared store,
    # and a box is drawn in b's page: the edit applies to b's stored records, never to
    # the first project's
    own = Annotation("b-1", KEY, "alice", "animal", "rect", (200, 100, 300, 200))
    with project_scope("b"):
        current().store.sync_image(KEY, "alice", [own])
    figure = [
        {"type": "rect", "name": "b-1", "x0": 200, "y0": 100, "x1": 300, "y1": 200},
        {"type": "rect", "x0": 1, "y0": 2, "x1": 30, "y1": 40},
    ]
    with project_scope("b"):
        data = call(
            annotations.on_figure_change,
            "graph-edit-store.data",
            {"shapes": figure},
            {**foreign, "unsaved": False},
            view,
            "alice",
            "person",
        )[0]
    kept = {r.coords: r.id for r in stored("b")}
    assert (
        kept.keys() == {(200, 100, 300, 200), (1, 2, 30, 40)}
        and kept[(200, 100, 300, 200)] == "b-1"
    )
    assert "a-1" not in kept.values() and stored(None) == []
    assert data["project"] == "b" and len(data["items"]) == 2


def test_moving_on_in_another_project_leaves_its_unsaved_records_alone(services) -> None:
    with project_scope("b"):
        position = call(
            navigation.navigate,
            "next.n_clicks",
            None,
            1,
            *[None] * 5,
            at(KEY, "b"),
            "alice",
            records_of("default"),
        )[0]
    assert position["key"] == "img02.jpg" and position["project"] == "b"
    assert stored("b") == [] and stored(None) == []


def load(position: dict[str, Any] | None) -> dict[str, Any]:
    """navigate() on page load, with the position remembered in local storage."""
    return call(navigation.navigate, None, *[None] * len(BUTTONS), position, "alice", None)[0]


def test_a_position_remembered_in_another_project_does_not_place_the_labeler(services) -> None:
    with project_scope("b"):
        assert load(at("img03.jpg", "default"))["key"] == KEY  # b's first image, not img03
        assert load(at("img03.jpg", "b")) == {
            "batch": "",
            "key": "img03.jpg",
            "index": 2,
            "project": "b",
        }
    assert load(at("img03.jpg", "b"))["key"] == KEY
    assert load(at("img03.jpg"))["key"] == "img03.jpg"  # unmarked: from before projects


def test_a_tab_of_another_project_moving_does_not_move_this_one(services) -> None:
    args = [None] * len(BUTTONS)
    with project_scope("b"):
        with pytest.raises(PreventUpdate):  # b's tab shows an image: it stays there
            call(
                navigation.move,
                "position-store.data",
                *args,
                at("img03.jpg", "default"),
                "alice",
                None,
                None,
                None,
                None,
                image_view("b"),
            )
        first = call(
            navigation.move,
            None,
            *args,
            at("img03.jpg", "default"),
            "alice",
            None,
            None,
            None,
            None,
            None,
        )
    assert first[0]["key"] == KEY and first[0]["project"] == "b"


def test_next_after_another_projects_tab_moved_goes_on_from_this_pages_image(services) -> None:
    buttons = [1 if name == "next" else None for name in BUTTONS]
    shown = {**image_view("b"), "key": "img02.jpg", "index": 1}  # b's page shows img02
    with project_scope("b"):
        moved = call(
            navigation.move,
            "next.n_clicks",
            *buttons,
            at("img01.jpg", "default"),  # what the first project's tab left in the store
            "alice",
            None,
            None,
            None,
            None,
            shown,
        )
    assert (moved[0]["key"], moved[0]["project"]) == ("img03.jpg", "b")


def test_every_server_callback_names_its_project_as_its_last_state(dash_app) -> None:
    specs = {k: v for k, v in dash_app.callback_map.items() if "callback" in v}  # server's
    assert len(specs) > 40
    for output, spec in specs.items():
        assert spec["state"][-1] == {"id": ids.PROJECT, "property": "data"}, output
    server_side = [s for s in dash_app._callback_list if not s.get("clientside_function")]
    assert len(server_side) == len(specs)


def test_a_scoped_callback_runs_in_the_project_its_page_names(monkeypatch) -> None:
    registered: dict[str, Any] = {}

    def fake_dash_callback(*args: Any, **kwargs: Any) -> Any:
        registered["args"] = args
        return lambda func: registered.setdefault("func", func)

    monkeypatch.setattr(scoped.dash, "callback", fake_dash_callback)
    seen = []

    @scoped.callback(Output("out", "children"), Input("in", "value"))
    def where(value: Any) -> Any:
        seen.append((value, active_slug()))
        return value

    last = registered["args"][-1]
    assert (last.component_id, last.component_property) == (ids.PROJECT, "data")
    assert registered["func"](1, "b") == 1
    registered["func"](2, None)
    assert seen == [(1, "b"), (2, None)]
    assert active_slug() is None
    assert where(3) == 3 and seen[-1] == (3, None)  # the function itself, for tests


def test_a_forked_job_lets_go_of_every_pool_it_inherited(services) -> None:
    with project_scope("b"):
        current().store.annotations_for(KEY, "alice")  # b's space opened in this process
        b_engine = current().store.engine
    pools = (services.store.engine.pool, b_engine.pool)

    detach_after_fork()

    assert services.store.engine.pool is not pools[0]  # the main database's
    assert b_engine.pool is not pools[1]  # and project b's: new pools, the parent's left
    assert stored("b") == [] and stored(None) == []  # both open again on use


def test_pre_annotation_helpers_run_in_the_project_that_sent_them(services, monkeypatch) -> None:
    sent: list[tuple[str, list]] = []

    class Queue:
        def send_task(self, name: str, args: list) -> None:
            sent.append((name, args))

    monkeypatch.setattr(fanout_tasks, "_queue", Queue())
    with project_scope("b"):
        launch = fanout_tasks.launcher()
        assert launch is not None
        launch("run-1")
    assert sent == [(fanout_tasks.TASK, ["run-1", "b"])]

    ran: list[tuple[str, str]] = []
    monkeypatch.setattr(fanout_tasks, "redis_board", lambda url: None)

    def help_run(services: Services, board: Any, run_id: str) -> list[str]:
        ran.append((run_id, services.project.slug))
        return []

    monkeypatch.setattr(fanout_tasks, "help_run", help_run)
    fanout_tasks.predict_chunk(*sent[0][1])
    fanout_tasks.predict_chunk("run-0")  # a task sent before projects: the first project
    assert ran == [("run-1", "b"), ("run-0", "default")]
