"""Uploading images over HTTP against the real app: into a local folder through the app,
and into S3 (moto's server on loopback) through presigned POSTs, as the browser does it.
Good images land and are listed without a restart; bad ones are refused with a clear
message and nothing of them is left; only those the project allows may upload."""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from PIL import Image

from auth.passwords import hash_password
from domain.accounts import Role
from domain.projects import Member, Project
from storage.annotation_store import AnnotationStore
from storage.project_store import ProjectStore
from tests.dash_requests import DashClient
from tests.servers import AppServer, MotoServer

PASSWORD = "long enough password"
MAX_BYTES = 20_000
MAX_PIXELS = 1_000_000
BUCKET = "concord-uploads"


def picture(size: tuple[int, int] = (64, 48), fmt: str = "JPEG", colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def accounts() -> str:
    secret = hash_password(PASSWORD)
    return f"ada:admin:{secret},ann:annotator:{secret},olga:annotator:{secret}"


def signed_in(app: AppServer, name: str) -> DashClient:
    client = DashClient(app.url)
    assert client.sign_in(name, PASSWORD).status_code == 302
    return client


def plan(client: DashClient, slug: str, files: list[dict[str, Any]], **extra: Any) -> Any:
    body = {"batch": "b", "duplicates": "refuse", "files": files, **extra}
    return client.session.post(f"{client.base_url}/uploads/plan?project={slug}", json=body)


def offer(name: str, data: bytes, kind: str = "image/jpeg") -> dict[str, Any]:
    return {"name": name, "size": len(data), "type": kind}


def put(client: DashClient, item: dict[str, Any], data: bytes) -> requests.Response:
    assert item["upload"]["method"] == "PUT"
    return client.session.put(client.base_url + item["upload"]["url"], data=data)


def done(client: DashClient, slug: str, keys: list[str], token: str = "") -> Any:
    url = f"{client.base_url}/uploads/done?project={slug}"
    return client.session.post(url, json={"keys": keys, "token": token})


def gallery_names(client: DashClient, slug: str, batch: str) -> str:
    """The gallery's grid for a batch, as a reviewer's or admin's page asks for it."""
    spec = client.spec("gallery-ask-store.data", "gallery-grid")
    values = {
        "gallery-ask-store.data": {"search": f"?view=gallery&batch={batch}", "at": 1},
        "project-store.data": slug,
    }
    answer = client.call(spec, values)
    assert answer.status_code == 200, answer.text
    return unquote(str(answer.json()["response"]["gallery-grid"]["children"]))


def files_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


@pytest.fixture(scope="module")
def local_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The first project on a local folder (batch b holds taken.jpg; ann is a member who may
    not upload); project "team" lets its members (ann) upload; olga is only in "other"."""
    root = tmp_path_factory.mktemp("uploads")
    images = root / "images"
    (images / "b").mkdir(parents=True)
    (images / "b" / "taken.jpg").write_bytes(picture(colour="red"))
    data = root / "data"
    main = AnnotationStore.from_url(f"sqlite:///{data / 'annotations.db'}")
    projects = ProjectStore(main.engine)
    first = projects.first()
    projects.save(
        replace(first, open_to_all=False, members=(Member("ann", Role.ANNOTATOR),)),
    )
    team = Project(0, "team", "Team", "team", members=(Member("ann", Role.ANNOTATOR),))
    projects.create(replace(team, members_upload=True))
    projects.create(
        Project(0, "other", "Other", "other", members=(Member("olga", Role.ANNOTATOR),))
    )
    main.engine.dispose()
    env = {
        "USERS": accounts(),
        "SECRET_KEY": "u" * 32,
        "IMAGE_SOURCE": str(images),
        "UPLOAD_MAX_BYTES": str(MAX_BYTES),
        "MAX_IMAGE_PIXELS": str(MAX_PIXELS),
    }
    app = AppServer(data, env=env).start()
    try:
        yield {"app": app, "images": images, "team": data / "images" / "team"}
    finally:
        app.stop()


def test_good_images_land_in_the_batch_and_are_listed_without_a_restart(local_app):
    ada = signed_in(local_app["app"], "ada")
    assert "taken.jpg" in gallery_names(ada, "default", "b")  # the listing is cached now
    jpeg, png = picture(), picture((40, 30), "PNG")

    planned = plan(ada, "default", [offer("new.jpg", jpeg), offer("new.png", png, "image/png")])

    assert planned.status_code == 200, planned.text
    files = planned.json()["files"]
    assert [(f["ok"], f["key"]) for f in files] == [(True, "b/new.jpg"), (True, "b/new.png")]
    for item, content in zip(files, (jpeg, png), strict=True):
        stored = put(ada, item, content)
        assert stored.status_code == 200, stored.text
        assert stored.json()["width"] in (64, 40)
    assert done(ada, "default", ["b/new.jpg", "b/new.png"]).status_code == 200
    folder = local_app["images"] / "b"
    assert (folder / "new.jpg").read_bytes() == jpeg and (folder / "new.png").read_bytes() == png
    assert files_in(folder) == ["new.jpg", "new.png", "taken.jpg"]  # no temporary file left
    grid = gallery_names(ada, "default", "b")
    assert "new.jpg" in grid and "new.png" in grid


def test_a_text_file_named_jpg_is_refused_and_not_left_on_disk(local_app):
    ada = signed_in(local_app["app"], "ada")
    text = b"this is a shopping list, not a picture\n" * 20
    item = plan(ada, "default", [offer("fake.jpg", text)]).json()["files"][0]
    assert item["ok"]  # its name and size are fine: its content is checked on arrival

    refused = put(ada, item, text)

    assert refused.status_code == 422
    assert "fake.jpg is not an image" in refused.json()["message"]
    assert "fake.jpg" not in files_in(local_app["images"] / "b")
    assert not [n for n in files_in(local_app["images"] / "b") if n.startswith(".")]


def test_files_that_are_not_images_by_name_or_type_are_refused_in_the_plan(local_app):
    ada = signed_in(local_app["app"], "ada")
    files = plan(
        ada,
        "default",
        [offer("notes.txt", b"x", "text/plain"), offer("photo.jpg", b"x", "text/html")],
    ).json()["files"]

    assert [f["ok"] for f in files] == [False, False]
    assert "notes.txt is not an image" in files[0]["problem"]
    assert "photo.jpg is not an image" in files[1]["problem"]


def test_an_oversized_file_is_refused_before_it_is_stored(local_app):
    ada = signed_in(local_app["app"], "ada")
    big = os.urandom(MAX_BYTES + 5000)

    item = plan(ada, "default", [offer("big.jpg", big)]).json()["files"][0]
    assert not item["ok"] and "over the upload limit of 20 KB" in item["problem"]

    url = f"{ada.base_url}/uploads/file?project=default&key=b/big.jpg"
    refused = ada.session.put(url, data=big)  # a crafted upload past the plan
    assert refused.status_code == 413
    assert "over the upload limit" in refused.json()["message"]
    assert "big.jpg" not in files_in(local_app["images"] / "b")


def test_an_image_with_too_many_pixels_is_refused(local_app):
    ada = signed_in(local_app["app"], "ada")
    huge = picture((2000, 1000), "PNG")  # 2 million pixels in a few kB
    assert len(huge) < MAX_BYTES
    item = plan(ada, "default", [offer("huge.png", huge, "image/png")]).json()["files"][0]

    refused = put(ada, item, huge)

    assert refused.status_code == 422
    assert "too many pixels" in refused.json()["message"]
    assert "huge.png" not in files_in(local_app["images"] / "b")


def test_a_duplicate_name_is_refused_or_renamed_as_asked(local_app):
    ada = signed_in(local_app["app"], "ada")
    jpeg = picture(colour="blue")
    twice = [offer("taken.jpg", jpeg), offer("twin.jpg", jpeg), offer("twin.jpg", jpeg)]

    refused = plan(ada, "default", twice).json()["files"]
    assert [f["ok"] for f in refused] == [False, True, False]
    assert "taken.jpg already exists in batch 'b'" in refused[0]["problem"]
    assert "twin.jpg already exists" in refused[2]["problem"]  # twice in one upload

    renamed = plan(ada, "default", twice, duplicates="rename").json()["files"]
    assert [f["key"] for f in renamed] == ["b/taken-1.jpg", "b/twin.jpg", "b/twin-1.jpg"]
    assert all(f["renamed"] for f in (renamed[0], renamed[2]))
    assert put(ada, renamed[0], jpeg).json()["key"] == "b/taken-1.jpg"
    folder = local_app["images"] / "b"
    assert (folder / "taken-1.jpg").read_bytes() == jpeg
    assert (folder / "taken.jpg").read_bytes() == picture(colour="red")  # not overwritten

    again = put(ada, renamed[0], jpeg)  # the same key again, duplicates renamed on arrival
    assert again.json()["key"] == "b/taken-1-1.jpg"  # taken since planned: renamed again
    url = f"{ada.base_url}/uploads/file?project=default&key=b/taken.jpg&duplicates=refuse"
    clash = ada.session.put(url, data=jpeg)
    assert clash.status_code == 409 and "already exists" in clash.json()["message"]
    assert (folder / "taken.jpg").read_bytes() == picture(colour="red")


def test_a_new_batch_folder_is_made_and_names_that_leave_the_folder_are_refused(local_app):
    ada = signed_in(local_app["app"], "ada")
    jpeg = picture()
    item = plan(ada, "default", [offer("first.jpg", jpeg)], batch="fresh").json()["files"][0]
    assert put(ada, item, jpeg).status_code == 200
    assert files_in(local_app["images"] / "fresh") == ["first.jpg"]

    bad_batch = plan(ada, "default", [offer("a.jpg", jpeg)], batch="../escape")
    assert bad_batch.status_code == 400 and "slash" in bad_batch.json()["message"]
    for key in ("../escape.jpg", "b/../../escape.jpg", "b/.hidden.jpg", "b/c/d.jpg"):
        url = f"{ada.base_url}/uploads/file?project=default&key={key}"
        assert ada.session.put(url, data=jpeg).status_code == 400, key
    assert not (local_app["images"].parent / "escape.jpg").exists()


def test_only_admins_upload_unless_the_project_lets_members(local_app):
    app, jpeg = local_app["app"], picture()
    ann = signed_in(app, "ann")
    refused = plan(ann, "default", [offer("mine.jpg", jpeg)])
    assert refused.status_code == 403 and "admins" in refused.json()["message"]
    url = f"{ann.base_url}/uploads/file?project=default&key=b/mine.jpg"
    assert ann.session.put(url, data=jpeg).status_code == 403
    assert "mine.jpg" not in files_in(local_app["images"] / "b")

    item = plan(ann, "team", [offer("mine.jpg", jpeg)]).json()["files"][0]  # members may
    assert put(ann, item, jpeg).status_code == 200
    assert files_in(local_app["team"] / "b") == ["mine.jpg"]

    olga = signed_in(app, "olga")
    for slug in ("default", "team"):
        assert plan(olga, slug, [offer("x.jpg", jpeg)]).status_code == 403
        url = f"{olga.base_url}/uploads/file?project={slug}&key=b/x.jpg"
        assert olga.session.put(url, data=jpeg).status_code == 403

    anonymous = requests.post(f"{app.url}uploads/plan?project=team", json={"files": []})
    assert anonymous.status_code == 401


def test_the_card_is_laid_out_only_for_those_who_may_upload(local_app):
    app = local_app["app"]

    def has_card(name: str, slug: str) -> bool:
        client = signed_in(app, name)
        page = client.session.get(
            f"{app.url}_dash-layout", headers={"Referer": f"{app.url}?project={slug}"}
        )
        return '"upload-card"' in page.text

    assert has_card("ada", "default") and has_card("ann", "team")
    assert not has_card("ann", "default")


# --- S3 -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_app(s3_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    client = s3_server.client()
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="proj/b/taken.jpg", Body=picture(colour="red"))
    env = {
        **s3_server.env(),
        "USERS": accounts(),
        "SECRET_KEY": "s" * 32,
        "IMAGE_SOURCE": f"s3://{BUCKET}/proj",
        "UPLOAD_MAX_BYTES": str(MAX_BYTES),
        "MAX_IMAGE_PIXELS": str(MAX_PIXELS),
    }
    app = AppServer(tmp_path_factory.mktemp("uploads-s3"), env=env).start()
    try:
        yield app
    finally:
        app.stop()


def post_to_s3(item: dict[str, Any], data: bytes) -> requests.Response:
    """What the browser does with a presigned POST: the form's fields, then the file."""
    how = item["upload"]
    assert how["method"] == "POST"
    return requests.post(how["url"], data=how["fields"], files={"file": (item["name"], data)})


def s3_keys(s3_server: MotoServer) -> list[str]:
    found = s3_server.client().list_objects_v2(Bucket=BUCKET, Prefix="proj/")
    return sorted(item["Key"] for item in found.get("Contents", []))


def test_s3_good_files_go_straight_to_the_bucket_and_are_listed(s3_app, s3_server):
    ada = signed_in(s3_app, "ada")
    assert "taken.jpg" in gallery_names(ada, "default", "b")
    jpeg, png = picture(), picture((40, 30), "PNG")
    answer = plan(ada, "default", [offer("up.jpg", jpeg), offer("up.png", png, "image/png")])
    assert answer.status_code == 200, answer.text
    planned = answer.json()
    for item, data in zip(planned["files"], (jpeg, png), strict=True):
        assert item["upload"]["url"].startswith(s3_server.endpoint)  # not through the app
        assert post_to_s3(item, data).status_code in (200, 201, 204)

    checked = done(ada, "default", ["b/up.jpg", "b/up.png"], planned["token"])

    assert checked.status_code == 200, checked.text
    assert [f["ok"] for f in checked.json()["files"]] == [True, True]
    assert {"proj/b/up.jpg", "proj/b/up.png"} <= set(s3_keys(s3_server))
    got = s3_server.client().get_object(Bucket=BUCKET, Key="proj/b/up.png")
    assert got["ContentType"] == "image/png" and got["Body"].read() == png
    grid = gallery_names(ada, "default", "b")
    assert "up.jpg" in grid and "up.png" in grid


def test_s3_a_non_image_posted_under_an_image_name_is_deleted_and_reported(s3_app, s3_server):
    ada = signed_in(s3_app, "ada")
    text = b"not a picture at all\n" * 30
    planned = plan(ada, "default", [offer("fake.jpg", text)]).json()
    assert post_to_s3(planned["files"][0], text).status_code in (200, 201, 204)
    assert "proj/b/fake.jpg" in s3_keys(s3_server)  # S3 cannot look inside: the app does

    checked = done(ada, "default", ["b/fake.jpg"], planned["token"]).json()

    assert checked["files"][0]["ok"] is False
    assert "fake.jpg is not an image" in checked["files"][0]["problem"]
    assert "removed" in checked["files"][0]["problem"]
    assert "proj/b/fake.jpg" not in s3_keys(s3_server)


def test_s3_too_many_pixels_and_too_many_bytes_are_deleted_on_arrival(s3_app, s3_server):
    """A real S3 refuses a POST over the policy's content-length-range itself; moto does not
    enforce POST policies, so the app's own check when the upload is done is what holds."""
    ada = signed_in(s3_app, "ada")
    huge, small = picture((2000, 1000), "PNG"), picture()
    planned = plan(ada, "default", [offer("huge.png", huge, "image/png"), offer("big.jpg", small)])
    token, (pixels, sized) = planned.json()["token"], planned.json()["files"]
    policy = json.loads(base64.b64decode(sized["upload"]["fields"]["policy"]))
    conditions = policy["conditions"]  # what a real S3 enforces on the POST
    assert ["content-length-range", 1, MAX_BYTES] in conditions
    assert {"key": "proj/b/big.jpg"} in conditions
    assert ["starts-with", "$Content-Type", "image/"] in conditions
    post_to_s3(pixels, huge)
    post_to_s3(sized, os.urandom(MAX_BYTES + 100))  # more than it said, more than allowed

    checked = {
        f["key"]: f
        for f in done(ada, "default", ["b/huge.png", "b/big.jpg"], token).json()["files"]
    }

    assert "too many pixels" in checked["b/huge.png"]["problem"]
    assert "over the upload limit" in checked["b/big.jpg"]["problem"]
    assert not {"proj/b/huge.png", "proj/b/big.jpg"} & set(s3_keys(s3_server))


def test_s3_done_leaves_objects_that_did_not_come_with_the_upload(s3_app, s3_server):
    ada = signed_in(s3_app, "ada")
    s3_server.client().put_object(Bucket=BUCKET, Key="proj/b/odd.jpg", Body=b"kept as it is")
    planned = plan(ada, "default", [offer("other.jpg", picture())]).json()

    checked = done(ada, "default", ["b/odd.jpg", "b/taken.jpg"], planned["token"]).json()

    assert [f["ok"] for f in checked["files"]] == [False, False]
    assert "not sent with this upload" in checked["files"][0]["problem"]
    assert {"proj/b/odd.jpg", "proj/b/taken.jpg"} <= set(s3_keys(s3_server))
    ann = signed_in(s3_app, "ann")  # the first project is open to all: ann is an annotator
    assert done(ann, "default", ["b/odd.jpg"], planned["token"]).status_code == 403


def test_without_accounts_the_one_local_person_uploads(tmp_path: Path):
    images = tmp_path / "images"
    images.mkdir()
    app = AppServer(tmp_path / "data", env={"IMAGE_SOURCE": str(images)}).start()
    try:
        local = DashClient(app.url)
        jpeg = picture()
        item = plan(local, "default", [offer("solo.jpg", jpeg)]).json()["files"][0]
        assert put(local, item, jpeg).status_code == 200
        assert files_in(images / "b") == ["solo.jpg"]
    finally:
        app.stop()
