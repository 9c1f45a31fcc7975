"""What the first page load costs a browser (issue 17), over HTTP from the Procfile's
gunicorn: the page's scripts, page and layout come compressed when the browser accepts it,
versioned files may be cached for a year, the JPEGs are left alone, ETags still give 304,
and plotly.js is the cartesian bundle of the same version as the one plotly ships."""

from __future__ import annotations

import gzip
import json
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import brotli
import plotly
import pytest

from auth.directory import save_account
from auth.passwords import hash_password
from domain.accounts import Account, Role
from tests.servers import ROOT, AppServer
from tests.unit.callback_support import make_batch

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

CHROMIUM_ACCEPTS = "gzip, deflate, br, zstd"
DECODE = {"gzip": gzip.decompress, "br": brotli.decompress, "zstd": zstd.decompress}
YEAR = "max-age=31536000"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes  # as sent (compressed if Content-Encoding says so)

    @property
    def encoding(self) -> str:
        return self.headers.get("content-encoding", "")

    def decoded(self) -> bytes:
        return DECODE[self.encoding](self.body) if self.encoding else self.body


class Site:
    def __init__(self, server: AppServer) -> None:
        self.base = server.url.rstrip("/")

    def get(self, path: str, **headers: str) -> Answer:
        request = urllib.request.Request(self.base + path)
        request.add_header("Accept-Encoding", headers.pop("accept_encoding", "identity"))
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return Answer(answer.status, _lower(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, _lower(error.headers.items()), error.read())

    def scripts(self) -> list[str]:
        return re.findall(r'<script src="(/[^"]+)"', self.get("/").body.decode())


def _lower(items: object) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("delivery")
    make_batch(root / "images" / "batch", [(1200, 900), (640, 480)])
    command = ["-m", "gunicorn", "app:server", "-w", "1", "--threads", "4"]
    server = AppServer(
        root / "data",
        env={"IMAGE_SOURCE": str(root / "images")},
        command=[*command, "-b", "127.0.0.1:{port}"],
    ).start()
    yield Site(server)
    server.stop()


def test_the_pages_scripts_and_layout_come_compressed_and_decode_to_the_same_bytes(site):
    paths = [*site.scripts(), "/", "/_dash-layout", "/_dash-dependencies"]
    sent = plain = 0
    for path in paths:
        identity = site.get(path)
        compressed = site.get(path, accept_encoding=CHROMIUM_ACCEPTS)
        assert identity.status == compressed.status == 200, path
        assert identity.encoding == "", path
        assert compressed.encoding in ("zstd", "br", "gzip"), path
        assert "Accept-Encoding" in compressed.headers["vary"], path
        if path.startswith("/_dash-component-suites/") or path.startswith("/assets/"):
            assert compressed.decoded() == identity.body, path
        else:  # the page and layout carry a fresh tab id: same length, same start
            decoded = compressed.decoded()
            assert len(decoded) == len(identity.body) and decoded[:200] == identity.body[:200]
        sent += len(compressed.body)
        plain += len(identity.body)
    assert sent < plain * 0.4, f"{sent:,} bytes sent for {plain:,}"


def test_the_page_preloads_its_layout_and_callback_map(site):
    page = site.get("/").body.decode()
    head = page.split("</head>")[0]
    preloads = re.findall(r'<link rel="preload" href="([^"]+)" as="fetch"[^>]*>', head)
    assert preloads == ["/_dash-layout", "/_dash-dependencies"]
    layout = json.loads(site.get("/_dash-layout").body)
    assert layout["props"]["children"], "the preloaded layout is the page's"
    assert isinstance(json.loads(site.get("/_dash-dependencies").body), list)
    # The Annotate view's script chunks: each one the installed packages serve.
    chunks = re.findall(r'<link rel="preload" href="([^"]+)" as="script">', head)
    assert len(chunks) == 4, chunks
    for chunk in chunks:
        answer = site.get(chunk)
        assert answer.status == 200 and "javascript" in answer.headers["content-type"], chunk
        assert len(answer.body) > 1000, chunk


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_each_encoding_a_browser_may_ask_for_alone(site, encoding):
    script = site.scripts()[-1]
    answer = site.get(script, accept_encoding=encoding)
    assert answer.encoding == encoding and answer.decoded() == site.get(script).body
    layout = site.get("/_dash-layout", accept_encoding=encoding)
    assert layout.encoding == encoding and json.loads(layout.decoded())["props"]


def test_page_uses_plotly_cartesian_bundle_of_plotlys_own_version(site):
    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    version = re.search(r"plotly\.js v(\S+)", full.read_text()[:300])
    assert version, "no version in plotly's own plotly.min.js"
    bundles = [path for path in site.scripts() if "plotly" in path]
    assert len(bundles) == 1 and f"plotly-cartesian-{version[1]}.min.js" in bundles[0]
    header = site.get(bundles[0]).body[:300].decode()
    assert f"plotly.js (cartesian - minified) v{version[1]}" in header
    licence = site.get("/assets/00-plotly-LICENSE.txt")
    assert licence.status == 200 and b"MIT License" in licence.body
    assert (ROOT / "assets" / "00-plotly-LICENSE.txt").exists()


def test_versioned_files_are_cached_for_a_year_others_revalidate(site):
    scripts = site.scripts()
    versioned = [p for p in scripts if "/_dash-component-suites/" in p or "plotly-cart" in p]
    for path in versioned:
        answer = site.get(path, accept_encoding=CHROMIUM_ACCEPTS)
        assert YEAR in answer.headers["cache-control"], path
    css = site.get("/").body.decode()
    [bootstrap] = re.findall(r'href="(/assets/00-bootstrap-[^"]+)"', css)
    assert YEAR in site.get(bootstrap).headers["cache-control"]
    # Dash stamps an asset's URL with the file's time (?m=): a changed file gets a new URL.
    [keyboard] = [p for p in scripts if "/assets/keyboard.js" in p]
    stamp = keyboard.split("?m=")[1]
    assert float(stamp) == (ROOT / "assets" / "keyboard.js").stat().st_mtime
    assert YEAR in site.get(keyboard).headers["cache-control"]
    # Any other URL of it (no stamp, an old one) is revalidated.
    for other in ("/assets/keyboard.js", "/assets/keyboard.js?m=12.5"):
        answer = site.get(other)
        assert answer.status == 200 and "no-cache" in answer.headers["cache-control"], other


def test_a_compressed_asset_still_answers_304_to_its_etag(site):
    [keyboard] = [p for p in site.scripts() if "/assets/keyboard.js" in p]
    first = site.get(keyboard, accept_encoding=CHROMIUM_ACCEPTS)
    assert first.encoding and first.headers["etag"]
    again = site.get(
        keyboard, accept_encoding=CHROMIUM_ACCEPTS, If_None_Match=first.headers["etag"]
    )
    assert again.status == 304 and again.body == b""


def test_images_are_sent_as_they_are_and_revalidate(site):
    layout = site.get("/_dash-layout").body
    assert layout  # the app answers; the image URL is the route's, with no query needed
    first = site.get("/images/batch/img01.jpg", accept_encoding=CHROMIUM_ACCEPTS)
    assert first.status == 200 and first.encoding == ""
    assert first.headers["content-type"] == "image/jpeg" and first.body[:2] == b"\xff\xd8"
    again = site.get(
        "/images/batch/img01.jpg",
        accept_encoding=CHROMIUM_ACCEPTS,
        If_None_Match=first.headers["etag"],
    )
    assert again.status == 304 and again.body == b""


def test_health_check_and_errors_are_not_compressed(site):
    assert site.get("/healthz", accept_encoding=CHROMIUM_ACCEPTS).encoding == ""
    missing = site.get("/images/batch/nope.jpg", accept_encoding=CHROMIUM_ACCEPTS)
    assert missing.status == 404 and missing.encoding == ""


def test_sign_in_page_is_never_compressed(tmp_path):
    """It puts the request's `next` beside a CSRF token: compressed, their lengths would
    leak the token (BREACH). The page behind it comes compressed once signed in."""
    users = tmp_path / "users.toml"
    save_account(users, Account("ada", Role.ANNOTATOR, hash_password("a long passphrase")))
    env = {"USERS_FILE": str(users), "SECRET_KEY": "k" * 32}
    server = AppServer(tmp_path / "data", env=env).start()
    try:
        login = Site(server).get("/login?next=/abc", accept_encoding=CHROMIUM_ACCEPTS)
        assert login.status == 200 and b'name="csrf"' in login.body
        assert login.encoding == ""
        script = Site(server).get(
            "/_dash-component-suites/dash/deps/react@18.v4_4_1m1.3.1.min.js",
            accept_encoding=CHROMIUM_ACCEPTS,
        )
        assert script.status == 200 and script.encoding == "zstd"
    finally:
        server.stop()
