"""Isolation between projects over HTTP: a member of project A gets 403 on every server
callback and picture route of project B, and nothing of B changes; A's own answer; an
unknown project gives 404; an export run as a background job of B holds B's shapes only."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from sqlalchemy import Engine, MetaData, create_engine, select

from auth.passwords import hash_password
from components import ids
from components.exchange_panel import ALL
from domain.accounts import Role
from domain.annotation import Annotation
from domain.projects import Member, Project
from storage.annotation_store import AnnotationStore
from storage.project_space import prepare_space, schema_name
from storage.project_store import ProjectStore
from tests.dash_requests import DashClient
from tests.servers import AppServer

KEY = "b1/x.jpg"  # the same key in every project's folder
PASSWORD = "long enough password"
SHAPES = {  # (project slug, annotator, box) stored before the app starts
    "default": ("carol", (1.0, 2.0, 30.0, 40.0)),
    "a": ("alice", (10.0, 20.0, 110.0, 120.0)),
    "b": ("bob", (5.0, 6.0, 50.0, 60.0)),
}


def write_image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (200, 150), (90, 120, 30)).save(path)


def store_shape(engine: Engine, slug: str) -> None:
    who, box = SHAPES[slug]
    shape = Annotation(f"{slug}-1", KEY, who, "person", "rect", box)
    AnnotationStore(engine).sync_image(KEY, who, [shape])


def space_rows(engine: Engine, schema: str | None) -> dict[str, list[tuple]]:
    """Every row of every table of a project's space, sorted: its whole content."""
    meta = MetaData()
    meta.reflect(engine, schema=schema)
    with engine.connect() as conn:
        return {
            table.name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
            for table in meta.tables.values()
        }


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The app with projects "a" (alice, an annotator) and "b" (bob and rita, a reviewer),
    each with its own image b1/x.jpg and shapes on it; the first project is not open to
    all, so membership decides who enters which. On SQLite and on PostgreSQL (where every
    project's space is a schema of the one database, sharing its connection pool)."""
    data = tmp_path_factory.mktemp("isolation") / "data"
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(f"iso_{uuid.uuid4().hex[:12]}")
    else:
        url = f"sqlite:///{data / 'annotations.db'}"
    main = AnnotationStore.from_url(url)
    projects = ProjectStore(main.engine)
    first = projects.first()
    projects.save(
        Project(
            first.id,
            first.slug,
            first.name,
            image_source="default",
            open_to_all=False,
            members=(Member("carol", Role.ANNOTATOR),),
        )
    )
    spaces = {"default": main.engine}
    for slug, members in (
        ("a", (Member("alice", Role.ANNOTATOR), Member("dana", Role.ADMIN))),
        ("b", (Member("bob", Role.ANNOTATOR), Member("rita", Role.REVIEWER))),
    ):
        made = projects.create(Project(0, slug, f"Project {slug.upper()}", slug, members=members))
        spaces[slug] = prepare_space(main.engine, made.id)
    for slug, engine in spaces.items():
        write_image(data / "images" / slug / KEY)
        store_shape(engine, slug)
    if request.param == "postgres":
        b_space = (url, schema_name(projects.find("b").id))  # type: ignore[union-attr]
    else:
        b_space = (f"sqlite:///{spaces['b'].url.database}", None)
    for engine in spaces.values():
        engine.dispose()
    secret = hash_password(PASSWORD)
    users = (
        ",".join(f"{name}:annotator:{secret}" for name in ("alice", "bob", "carol", "dana"))
        + f",rita:reviewer:{secret}"
    )
    env = {"USERS": users, "SECRET_KEY": "k" * 32, "DATABASE_URL": url}
    app = AppServer(data, env=env).start()
    try:
        yield {"app": app, "b_space": b_space}
    finally:
        app.stop()


def signed_in(app: AppServer, name: str) -> DashClient:
    client = DashClient(app.url)
    assert client.sign_in(name, PASSWORD).status_code == 302
    return client


def _entry(spec: dict[str, str], values: dict[str, Any]) -> dict[str, Any] | list:
    """One input or state entry as the page sends it (a pattern-matching one: no
    components match it, an empty list)."""
    if spec["id"].startswith("{"):
        return []
    return {**spec, "value": values.get(f"{spec['id']}.{spec['property']}")}


def _outputs(output: str) -> list | dict[str, str]:
    def one(part: str) -> Any:
        component, prop = part.rsplit(".", 1)
        return [] if component.startswith("{") else {"id": component, "property": prop}

    if output.startswith(".."):
        return [one(part) for part in output.strip(".").split("...")]
    return one(output)


def body_for(dep: dict[str, Any], slug: str, values: dict[str, Any] | None = None) -> dict:
    """The request the page would send for a callback, in project `slug`."""
    values = {**(values or {}), f"{ids.PROJECT}.data": slug}
    head = dep["inputs"][0]
    return {
        "output": dep["output"],
        "outputs": _outputs(dep["output"]),
        "inputs": [_entry(e, values) for e in dep["inputs"]],
        "state": [_entry(e, values) for e in dep["state"]],
        "changedPropIds": [f"{head['id']}.{head['property']}"],
    }


def post(client: DashClient, body: dict, query: str = "") -> requests.Response:
    return client.session.post(f"{client.base_url}/_dash-update-component{query}", json=body)


def server_callbacks(client: DashClient) -> list[dict[str, Any]]:
    found = [dep for dep in client.dependencies() if not dep.get("clientside_function")]
    assert len(found) > 40  # every server callback of the page
    return found


def test_a_member_of_a_gets_403_on_every_callback_of_b_and_nothing_changes(deployment):
    alice = signed_in(deployment["app"], "alice")
    url, schema = deployment["b_space"]
    engine = create_engine(url)
    before = space_rows(engine, schema)
    assert before["annotations"] and before["image_statuses"]  # B's shapes, to be left alone
    answers = {}
    for dep in server_callbacks(alice):
        values = {
            "position-store.data": {"batch": "b1", "key": KEY, "index": 0, "project": "b"},
            "records-store.data": {"image_key": KEY, "annotator": "alice", "items": []},
        }
        answers[dep["output"]] = post(alice, body_for(dep, "b", values)).status_code
    assert {o: s for o, s in answers.items() if s != 403} == {}
    assert space_rows(engine, schema) == before
    engine.dispose()


def test_every_picture_route_of_b_is_refused_and_as_own_are_served(deployment):
    alice, base = signed_in(deployment["app"], "alice"), deployment["app"].url
    routes = (f"images/{KEY}?", f"thumbs/{KEY}?", f"crops/{KEY}?box=10,10,80,80&")
    for route in routes:
        refused = alice.session.get(f"{base}{route}project=b")
        assert refused.status_code == 403, route
        assert "not a member of project 'b'" in refused.text
        served = alice.session.get(f"{base}{route}project=a")
        assert served.status_code == 200, route
        assert served.headers["Content-Type"].startswith("image/")
    assert alice.session.get(f"{base}images/{KEY}").status_code == 403  # the first: not hers


def test_as_member_is_served_as_data_and_an_unknown_project_is_404(deployment):
    alice = signed_in(deployment["app"], "alice")
    specs = alice.dependencies()
    move = alice.spec("prev.n_clicks", "position-store.data", specs)
    body = body_for(move, "a")
    body["changedPropIds"] = []  # the call the page makes as it loads
    answer = post(alice, body)
    assert answer.status_code == 200
    position = answer.json()["response"]["position-store"]["data"]
    assert (position["key"], position["project"]) == (KEY, "a")
    loaded = answer.json()["response"]["records-store"]["data"]
    assert [item["coords"] for item in loaded["items"]] == [list(SHAPES["a"][1])]

    assert post(alice, body_for(move, "b")).status_code == 403
    unknown = post(alice, body_for(move, "no-such-project"))
    assert unknown.status_code == 404 and "no-such-project" in unknown.text
    route = alice.session.get(f"{alice.base_url}/images/{KEY}?project=no-such-project")
    assert route.status_code == 404


def run_background(client: DashClient, body: dict, timeout: float = 60) -> dict[str, Any]:
    """Start a background callback and poll it as the page does, until it answers."""
    started = post(client, body)
    assert started.status_code == 200, started.text
    handles = started.json()
    assert "cacheKey" in handles, handles
    query = f"?cacheKey={handles['cacheKey']}&job={handles['job']}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        polled = post(client, body, query)
        assert polled.status_code in (200, 204), polled.text
        if polled.status_code == 200 and "response" in polled.json():
            return polled.json()["response"]
        time.sleep(0.3)
    raise AssertionError("the background job did not finish")


def test_an_export_run_as_a_background_job_of_b_holds_bs_shapes_only(deployment):
    rita = signed_in(deployment["app"], "rita")
    export = rita.spec("export-button.n_clicks", "export-download.data")
    values = {
        "export-button.n_clicks": 1,
        "export-format.value": "csv",
        "export-annotator.value": ALL,
        "export-batch.value": ALL,
        "export-segments.value": False,
    }
    answer = run_background(rita, body_for(export, "b", values))
    download = answer["export-download"]["data"]
    content = base64.b64decode(download["content"]).decode()
    assert "bob" in content and KEY in content
    assert "alice" not in content and "carol" not in content

    alice = signed_in(deployment["app"], "alice")
    assert post(alice, body_for(export, "b", values)).status_code == 403


def test_an_admin_of_one_project_manages_it_but_not_accounts_or_projects(deployment):
    """dana is an annotator of the deployment and an admin of project a only."""
    dana = signed_in(deployment["app"], "dana")
    specs = dana.dependencies()
    opened = {"page-tabs.active_tab": "tab-admin"}
    label_set = dana.spec("page-tabs.active_tab", "admin-labels-grid.rowData", specs)
    shown = post(dana, body_for(label_set, "a", opened))
    assert shown.status_code == 200
    rows = shown.json()["response"]["admin-labels-grid"]["rowData"]
    assert [row["name"] for row in rows][:1] == ["person"]
    assert post(dana, body_for(label_set, "b", opened)).status_code == 403  # not hers
    accounts = dana.spec("page-tabs.active_tab", "admin-users.children", specs)
    refused = post(dana, body_for(accounts, "a", opened))
    assert refused.status_code == 403
    assert "admins of the whole deployment" in refused.text
    projects = [dep for dep in specs if "admin-project" in dep["output"]]
    assert projects and all(
        post(dana, body_for(dep, "a", opened)).status_code == 403 for dep in projects
    )
    page = dana.session.get(
        f"{dana.base_url}/_dash-layout", headers={"Referer": f"{dana.base_url}/?project=a"}
    )
    assert "admin-labels-grid" in page.text and "admin-users" not in page.text


def test_a_project_admin_may_send_an_admins_body_and_an_annotator_may_not(deployment):
    """Bodies are capped before they are read, by the highest role the person has anywhere:
    an import of 5 MB is too big for an annotator, not for an admin of a project."""
    body = b"{" + b" " * (5 * 1024 * 1024) + b"}"
    headers = {"Content-Type": "application/json"}
    for name, refused in (("alice", True), ("dana", False)):
        client = signed_in(deployment["app"], name)
        answer = client.session.post(
            f"{client.base_url}/_dash-update-component", data=body, headers=headers
        )
        assert (answer.status_code == 413) is refused, (name, answer.status_code, answer.text)
