"""Fuzz: arbitrary JSON thrown at every server callback of the real app over HTTP.

Whatever the browser sends (a crafted request needs only the dev tools), the server answers
without a 500, stores nothing invalid, and every export and the agreement report still run.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import load_settings
from domain.annotation import KINDS
from storage.runtime import build_services, current, install
from tests.fuzz_support import KEYS, NAMES, any_json, numbers, outputs_still_run, stored_problems
from tests.unit.callback_support import make_batch

record = st.fixed_dictionaries(
    {
        "id": st.text(min_size=1, max_size=8) | st.sampled_from(["a", "b"]),
        "image_key": st.sampled_from(KEYS) | st.text(max_size=12),
        "annotator": st.sampled_from(NAMES),
        "label": st.sampled_from(["car", "person", "(missed)", "nope"]) | st.text(max_size=6),
        "kind": st.sampled_from(KINDS) | st.text(max_size=6),
    },
    optional={
        "coords": st.lists(numbers, max_size=8) | any_json,
        "points": st.lists(st.lists(numbers, min_size=0, max_size=3), max_size=8) | any_json,
        "version": st.integers(-3, 5) | any_json,
        "score": numbers | any_json,
        "source": st.sampled_from(["human", "model:x@1", "edited:model:x@1"]) | any_json,
        "created_at": st.text(max_size=30) | any_json,
    },
)
records_store = st.fixed_dictionaries(
    {
        "image_key": st.sampled_from(KEYS) | any_json,
        "annotator": st.sampled_from(NAMES) | any_json,
        "items": st.lists(record, max_size=4) | any_json,
    },
    optional={
        "unsaved": st.booleans() | any_json,
        "rev": st.integers() | any_json,
        "loaded": st.booleans() | any_json,
        "known": st.lists(st.tuples(st.text(max_size=4), st.integers(-2, 9)), max_size=3)
        | any_json,
        "error": any_json,
        "notice": any_json,
    },
)
image_store = st.fixed_dictionaries(
    {
        "key": st.sampled_from(KEYS) | any_json,
        "width": numbers | any_json,
        "height": numbers | any_json,
    },
    optional={"repeat": st.booleans() | any_json, "error": any_json},
)
shape_dict = st.fixed_dictionaries(
    {"type": st.sampled_from(["rect", "circle", "line", "path"]) | any_json},
    optional={
        "x0": numbers,
        "y0": numbers,
        "x1": numbers,
        "y1": numbers,
        "path": st.sampled_from(["M1,1L50,1L50,50Z", "M0,0L9,9L0,9L9,0Z", "M1,1"])
        | st.text(max_size=20),
        "line": any_json,
    },
)
relayout = (
    st.fixed_dictionaries({"shapes": st.lists(shape_dict, max_size=3)})
    | st.dictionaries(st.sampled_from(["shapes[0].x0", "shapes[1].path", "shapes[0].y1"]), numbers)
    | any_json
)
BY_PROP = {
    "records-store.data": records_store | any_json,
    "image-store.data": image_store | any_json,
    "graph.relayoutData": relayout,
    "graph-edit-store.data": relayout,  # the shape changes the browser passes on
    "annotator-store.data": st.sampled_from(NAMES) | any_json,
    # the page's project, set by the server: mostly the real one, sometimes anything
    "project-store.data": st.just("default") | st.none() | any_json,
}


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    make_batch(root / "images", [(400, 300), (64, 48)])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATA_DIR", str(root / "data"))
        patch.setenv("IMAGE_SOURCE", str(root / "images"))
        patch.setenv("LABELS", "car,person")
        app = importlib.import_module("app")
        install(build_services(load_settings(), *app.caches))
        client = app.server.test_client()
        deps = [
            dep
            for dep in client.get("/_dash-dependencies").json
            if not dep.get("clientside_function") and not dep.get("background")
        ]
        yield client, deps


WILDCARD_VALUES = ["car", "person"]  # a pattern-matching ALL id: one entry per label


def _ids(raw: str) -> str | list[dict[str, Any]]:
    """A component id as the renderer sends it: text, or for an ALL pattern the ids of
    the components it matches on the page."""
    if not raw.startswith("{"):
        return raw
    pattern = json.loads(raw)
    return [
        {k: (value if v == ["ALL"] else v) for k, v in pattern.items()} for value in WILDCARD_VALUES
    ]


def _entries(component: str, prop: str, values: list[Any] | None = None) -> Any:
    found = _ids(component)
    if isinstance(found, str):
        entry = {"id": found, "property": prop}
        return entry if values is None else {**entry, "value": values[0]}
    return [
        {"id": one, "property": prop, **({} if values is None else {"value": values[n]})}
        for n, one in enumerate(found)
    ]


def _outputs(output: str) -> Any:
    def one(spec: str) -> Any:
        component, prop = spec.split("@")[0].rsplit(".", 1)
        return _entries(component, prop)

    if output.startswith(".."):
        return [one(part) for part in output.strip(".").split("...")]
    return one(output)


def _body(dep: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    def filled(entries: list[dict[str, str]]) -> list[Any]:
        out = []
        for entry in entries:
            name = f"{entry['id']}.{entry['property']}"
            values = [data.draw(BY_PROP.get(name, any_json), label=name) for _ in WILDCARD_VALUES]
            out.append(_entries(entry["id"], entry["property"], values))
        return out

    inputs = filled(dep["inputs"])
    changed = data.draw(st.sampled_from(dep["inputs"]), label="changed")
    changed_id = _ids(changed["id"])
    if not isinstance(changed_id, str):
        changed_id = json.dumps(changed_id[0], separators=(",", ":"), sort_keys=True)
    return {
        "output": dep["output"],
        "outputs": _outputs(dep["output"]),
        "inputs": inputs,
        "state": filled(dep["state"]),
        "changedPropIds": [f"{changed_id}.{changed['property']}"],
    }


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
@given(data=st.data())
def test_no_callback_answers_500_to_any_json(app_client, data):
    client, deps = app_client
    dep = data.draw(st.sampled_from(deps), label="callback")
    body = _body(dep, data)
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code < 500, (dep["output"][:80], response.data[:300])
    sent = _project_sent(body)  # a value that is no text names no project: the first one
    if isinstance(sent, str) and sent != "default":  # no such project: refused whole
        assert response.status_code == 404, (dep["output"][:80], response.data[:300])
    elif not _reads_a_report(dep):
        # the annotate page's callbacks take any value in their stride: they never fall
        # back on the server's "values do not fit" answer (a crash turned into a 400)
        assert response.status_code in (200, 204), (dep["output"][:80], response.data[:300])


def _project_sent(body: dict[str, Any]) -> object:
    """The value the request gives the page's project store (None: not sent, or null)."""
    found = [e for e in body["state"] if isinstance(e, dict) and e.get("id") == "project-store"]
    return found[0].get("value") if found else None


def _reads_a_report(dep: dict[str, Any]) -> bool:
    """True for the Agreement tab's views of a report the browser holds: values that are
    not a report are answered 400 (they only ever hurt the one who crafted them)."""
    return "agreement-" in dep["output"] or any(
        e["id"].startswith("agreement-") for e in dep["inputs"]
    )


def test_after_the_fuzz_nothing_invalid_is_stored_and_outputs_run(app_client):
    """Runs after the fuzz (same module, same database)."""
    assert stored_problems(current()) == []
    outputs_still_run(current())
