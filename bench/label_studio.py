"""Concord against Label Studio Community Edition, in the same browser: the first page load
to the image visible (cold, second visit, warm) and the move to the next image.

Concord runs under gunicorn as in bench/first_load.py (the Procfile's web process, 2
workers, 4 threads); Label Studio 1.23.2 as its own `label-studio start` runs it (Django's
threaded server, one process, SQLite in a temporary data directory), from its own virtual
environment, with local files serving on and its telemetry, Sentry and version check off.
Both are bound to 127.0.0.1 and stopped by their PIDs (Label Studio's process group). They
show the same images: bench/first_load.py's photo-like 1600x1200 JPEGs. Label Studio gets
them through its REST API (token auth): a project with a rectangle-labels config on an image,
a local files storage on the images' folder (it grants the right to serve them) and one task
per image whose URL is `/data/local-files/?d=<path>`, imported in order. Debian's headless
Chromium (tests/browser.py's flags, first_load.py's window) is driven by selenium, signed in
to Label Studio once through its login form (the session cookie outlives the cache clears).

- "Image visible": the element that shows the picture has fired its load event (picture
  fetched), recorded by a capturing listener installed before any page script, as
  performance.now(): milliseconds since the navigation started. Concord: the SVG <image>
  in `#graph .imagelayer` (first_load.py's WATCH_IMAGE). Label Studio: the <img> inside the
  labeling editor's image view (`.lsf-image`); Label Studio fetches the task's picture
  from /data/local-files/ itself and gives that <img> a blob: URL, so each load also checks
  that the task's /data/local-files/ URL is among the requests made until then.
- Label Studio's pages: "label stream" is /projects/<id>/data?labeling=1 (a project's
  "Label All Tasks": the editor alone, on the first unlabeled task, i.e. task 1, the
  page a labeler works in); "task view" is /projects/<id>/data?task=<first task>, the data
  manager's table with the task open beside it (the table shows every task's image too).
- Cold, second visit and warm: as in bench/first_load.py (HTTP cache cleared by CDP; the
  page again right after; a third time).
- Requests and bytes: first_load.py's (Resource Timing up to the image visible; bytes over
  the wire).
- Next and Skip: 2 x RUNS moves each, on a second set of 4 x RUNS + 1 images never loaded
  before, each app in its own Chromium with its page open (warm) on the set's first image:
  from the click on the control to the new picture's load event, both performance.now()
  in the page. Concord: #next and #skip on a second gunicorn serving only that set
  (Concord prefetches the next image: part of what is measured). Label Studio: a second
  project's label stream, its next-task arrow (which postpones the task) and Skip (which
  saves a skipped annotation). The apps' moves alternate, 0.5 s apart; each move's picture
  is checked to be a new one.
- Caveat: Label Studio's server answers its files with `Vary: Cookie` and a new session
  cookie each time, so Chromium's cache never serves them: its second visits and warm
  loads fetch everything again (the headers are printed). `label-studio start` serves
  them itself, uncompressed; a deployment with a web server in front may differ.

Median of RUNS each; first loads are interleaved (each round opens every page, cold, second
visit and warm, in a rotating order). Prints medians, requests and bytes, the servers'
memory and the ratio Concord / Label Studio. Never fails (exit status 0); prints how to
install Label Studio and stops if its executable is missing.

Usage: python -m bench.label_studio [--runs 5] [--label-studio PATH]   (about 3 minutes)
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import attempt, print_worker_memory
from bench.first_load import (
    IMAGE_SIZE,
    KINDS,
    ROOT,
    RUNS,
    Load,
    _wait_until_answers,
    chromium,
    gunicorn,
    interleaved,
    introduce,
    line,
    photo,
    summary,
    write_images,
)
from tests.servers import free_port

LABEL_STUDIO = Path("/tmp/ls-venv/bin/label-studio")
INSTALL = "python3 -m venv /tmp/ls-venv && /tmp/ls-venv/bin/pip install label-studio==1.23.2"
LS_USER = "bench@example.com"
LS_PASSWORD = "bench-password-123"
LS_TOKEN = "bench0123456789token"  # noqa: S105 (a throwaway server's)
LABEL_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="object"/>
  </RectangleLabels>
</View>"""
CONCORD = "Concord"
STREAM = "Label Studio, label stream"
TASK_VIEW = "Label Studio, task view"
# Settings of Label Studio's that the environment might carry in: dropped.
LS_ENV_DROPPED = ("HOST", "PORT", "DEBUG", "USERNAME", "PASSWORD", "DJANGO_DB", "DATABASE_NAME")
LS_ENV = {
    "LOCAL_FILES_SERVING_ENABLED": "true",
    "SENTRY_DSN": "",  # no error reports sent out (and none of sentry_sdk's start-up)
    "FRONTEND_SENTRY_DSN": "",
    "LATEST_VERSION_CHECK": "false",  # no look-up of the newest release
    "COLLECT_ANALYTICS": "false",
    "LOG_LEVEL": "WARNING",
}
QUIET_MOVE = 0.5

# Runs in every page before its scripts (besides first_load.py's WATCH_IMAGE): every load
# of either app's picture element, and Label Studio's first one as the image visible.
WATCH_BOTH = """
window.__imageLoads = [];
document.addEventListener('load', (event) => {
  const target = event.target;
  const now = performance.now();
  let app = null;
  if (target instanceof HTMLImageElement && target.closest('.lsf-image')) app = 'ls';
  else if (target instanceof SVGImageElement && target.closest('#graph .imagelayer')) {
    app = 'concord';
  }
  if (app === null) return;
  const src = target.getAttribute('src') || target.getAttribute('href') || '';
  window.__imageLoads.push([now, app, src]);
  if (app === 'ls' && window.__imageVisible === undefined) window.__imageVisible = now;
}, true);
"""

# Clicks the control and returns performance.now() just before the click, and the source
# of the picture shown then.
CLICK = """
const loads = window.__imageLoads || [];
const before = loads.length ? loads[loads.length - 1][2] : null;
const control = document.querySelector(arguments[0]);
if (!control || control.disabled) return null;
const start = performance.now();
control.click();
return [start, before];
"""

# The /data/local-files/ URLs (Label Studio's task pictures) fetched between two moments.
FETCHED_SINCE = """
return performance.getEntriesByType('resource')
  .filter(e => e.name.includes('/data/local-files/') && e.startTime >= arguments[0]
               && e.startTime <= arguments[1])
  .map(e => e.name);
"""


# ---------------------------------------------------------------- Label Studio


@dataclass(frozen=True)
class LabelStudio:
    url: str
    pid: int


def _ls_env(data_dir: Path, images: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in LS_ENV_DROPPED and not k.startswith(("LABEL_STUDIO_", "HEARTEX_"))
    }
    env.update(LS_ENV)
    env["LABEL_STUDIO_BASE_DATA_DIR"] = str(data_dir)
    env["LOCAL_FILES_DOCUMENT_ROOT"] = str(images)
    return env


def _stop_group(process: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate the process group the server leads (by its PID), then kill it."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def label_studio(executable: Path, images: Path, data_dir: Path) -> Iterator[LabelStudio]:
    """`label-studio start` on 127.0.0.1 with a user and its API token, in its own
    process group, stopped by its PID; yields its URL and PID."""
    port = free_port()
    command = [
        str(executable),
        "start",
        "--no-browser",
        "--internal-host",
        "127.0.0.1",
        "--port",
        str(port),
        "--username",
        LS_USER,
        "--password",
        LS_PASSWORD,
        "--user-token",
        LS_TOKEN,
        "--enable-legacy-api-token",  # "Authorization: Token ..." for the API
    ]
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "label-studio.log").open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=data_dir,
            env=_ls_env(data_dir, images),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            started = time.monotonic()
            _wait_until_answers(url + "/health", process, timeout=240)
            print(f"Label Studio answered {time.monotonic() - started:.0f} s after its start")
            yield LabelStudio(url, process.pid)
        except Exception:
            print((data_dir / "label-studio.log").read_text(errors="replace")[-3000:])
            raise
        finally:
            print_worker_memory(process.pid, "label-studio")
            _stop_group(process)


def api(base: str, method: str, path: str, body: Any = None) -> Any:
    """One call to Label Studio's REST API with the user's token; its JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Token {LS_TOKEN}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read() or b"null")


def ls_project(base: str, title: str, root: Path, paths: list[Path]) -> tuple[int, list[int]]:
    """A project on the images, a local files storage on their folder (without it Label
    Studio serves none of them), and a task per image in order; the project's id and its
    task ids."""
    project = api(base, "POST", "/api/projects", {"title": title, "label_config": LABEL_CONFIG})
    folder = paths[0].parent
    storage = {
        "project": project["id"],
        "title": folder.name,
        "path": str(folder),
        "use_blob_urls": True,
        "regex_filter": r".*\.jpg",
    }
    api(base, "POST", "/api/storages/localfiles", storage)
    tasks = [{"image": local_files_url(root, path)} for path in paths]
    api(base, "POST", f"/api/projects/{project['id']}/import", tasks)
    listed = api(base, "GET", f"/api/tasks?project={project['id']}&page_size=1000")
    ids = sorted(task["id"] for task in listed["tasks"])
    return int(project["id"]), ids


def local_files_url(root: Path, path: Path) -> str:
    return f"/data/local-files/?d={path.relative_to(root).as_posix()}"


def sign_in(driver: Any, base: str) -> None:
    """Label Studio's login form, filled in as a person would."""
    from selenium.webdriver.common.by import By

    driver.get(base + "/user/login/")
    driver.find_element(By.NAME, "email").send_keys(LS_USER)
    driver.find_element(By.NAME, "password").send_keys(LS_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]").click()
    deadline = time.monotonic() + 60
    while "/user/login" in driver.current_url and time.monotonic() < deadline:
        time.sleep(0.1)
    if "/user/login" in driver.current_url:
        raise RuntimeError("Label Studio's sign-in did not go through")


def browser() -> Any:
    driver = chromium()
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_BOTH})
    return driver


def wait_visible(driver: Any, url: str) -> None:
    """Open url and wait for the image visible (a first visit: nothing measured)."""
    driver.get(url)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if driver.execute_script("return window.__imageVisible") is not None:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url}: no image visible within 90 s")


# ---------------------------------------------------------------- Next and Skip


def move_once(driver: Any, selector: str) -> tuple[float, str]:
    """Click the control; ms from the click to the load of a picture with another source,
    and which picture: Concord's image URL, or the last /data/local-files/ URL Label
    Studio fetched since the click (its <img> only has a blob: URL)."""
    clicked = driver.execute_script(CLICK, selector)
    if clicked is None:
        raise RuntimeError(f"{selector}: no such control, or disabled")
    start, before = clicked
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        loads = driver.execute_script("return window.__imageLoads")
        for at, _, src in loads:
            if at >= start and src != before:
                fetched = driver.execute_script(FETCHED_SINCE, start, at)
                time.sleep(QUIET_MOVE)
                return float(at - start), fetched[-1] if fetched else src
        time.sleep(0.01)
    raise RuntimeError(f"{selector}: no new image within 30 s")


def moves(
    drivers: dict[str, Any], controls: dict[str, dict[str, str]], count: int
) -> dict[str, dict[str, list[float]]]:
    """`count` moves per control and app, the apps alternating move by move."""
    times: dict[str, dict[str, list[float]]] = {
        app: {what: [] for what in controls[app]} for app in drivers
    }
    shown: dict[str, list[str]] = {app: [] for app in drivers}
    for what in next(iter(controls.values())):
        for number in range(count):
            apps = list(drivers)
            if number % 2:
                apps.reverse()
            for app in apps:
                selector = controls[app][what]
                once = functools.partial(move_once, drivers[app], selector)
                moved = attempt(f"{app} {what} {number + 1}", once)
                if moved is not None:
                    times[app][what].append(moved[0])
                    shown[app].append(moved[1])
    for app, pictures in shown.items():
        print(f"  {app}: {len(set(pictures))} different pictures in {len(pictures)} moves")
    return times


def next_phase(
    ls: LabelStudio, work: Path, root: Path, count: int
) -> dict[str, dict[str, list[float]]]:
    """Concord's own server on the new images, Label Studio's label stream on a project of
    the same; each app in its own Chromium, its page open (warm) on the first image."""
    queue = root / "next" / "queue"
    queue.mkdir(parents=True)
    paths = []
    for number in range(2 * count + 1):
        path = queue / f"q-{number:02d}.jpg"
        photo(IMAGE_SIZE, 100 + number).save(path, quality=90)
        paths.append(path)
    project, _ = ls_project(ls.url, "bench next", root, paths)
    stream = f"{ls.url}/projects/{project}/data?labeling=1"
    with ExitStack() as stack:
        concord_url = stack.enter_context(gunicorn(ROOT, root / "next", work / "concord-next"))
        drivers = {CONCORD: browser(), "Label Studio": browser()}
        for driver in drivers.values():
            stack.callback(driver.quit)
        introduce(drivers[CONCORD], concord_url)
        wait_visible(drivers[CONCORD], concord_url)
        sign_in(drivers["Label Studio"], ls.url)
        wait_visible(drivers["Label Studio"], stream)
        time.sleep(1)
        controls = {
            CONCORD: {"Next": "#next", "Skip": "#skip"},
            "Label Studio": {
                "Next": "button[data-testid='next-task']",
                "Skip": "button[data-testid='bottombar-skip-button']",
            },
        }
        return moves(drivers, controls, count)


# ---------------------------------------------------------------- report


def task_image_loads(loads: list[Load], path: str) -> str:
    """How many of the loads fetched the task's picture before the image was visible."""
    found = sum(1 for load in loads if any(path in entry[0] for entry in load.entries))
    return f"{found}/{len(loads)}"


def other_hosts(loads: list[Load]) -> int:
    """Requests to hosts other than the loopback one (none expected: no network)."""
    return max(
        (sum(1 for e in load.entries if not e[0].startswith("http://127.0.0.1")) for load in loads),
        default=0,
    )


def report(loads: dict[str, dict[str, list[Load]]], runs: int, first_path: str) -> None:
    results = {
        name: {kind: summary(values) for kind, values in kinds.items() if values}
        for name, kinds in loads.items()
    }
    print(f"\nFirst load to image visible, median of {runs} (Chromium, loopback):")
    for kind in KINDS:
        print(f" {kind}:")
        for name, result in results.items():
            if kind in result:
                print(line(name, result[kind], None))
    print("\nConcord / Label Studio, time to image visible (below 1: Concord faster):")
    for kind in KINDS:
        ours = results.get(CONCORD, {}).get(kind)
        for name in (STREAM, TASK_VIEW):
            theirs = results.get(name, {}).get(kind)
            if ours and theirs and theirs["seconds"] > 0:
                ratio = ours["seconds"] / theirs["seconds"]
                print(
                    f"  {kind:<13} vs {name:<27} {ratio:5.2f}  "
                    f"({ours['seconds'] * 1e3:,.0f} ms / {theirs['seconds'] * 1e3:,.0f} ms)"
                )
    for name in (STREAM, TASK_VIEW):
        every = [load for kind in KINDS for load in loads.get(name, {}).get(kind, [])]
        if every:
            print(
                f"  {name}: the task's {first_path} fetched before the image visible in "
                f"{task_image_loads(every, first_path)} loads"
            )
    for name in loads:
        every = [load for kind in KINDS for load in loads[name][kind]]
        print(f"  {name}: requests to other hosts per load, at most: {other_hosts(every)}")


def biggest(name: str, load: Load, count: int = 4) -> None:
    """The largest transfers of one cold load."""
    print(f"  {name}, biggest transfers of a cold load:")
    for url, transfer, _, decoded, _ in sorted(load.entries, key=lambda e: -e[1])[:count]:
        short = url.split("//", 1)[-1].split("/", 1)[-1][:70]
        print(f"      {transfer / 1e3:9,.1f} kB over the wire ({decoded / 1e3:,.0f} kB)  /{short}")


def caching(url: str) -> None:
    """The headers that decide whether the browser may reuse a file, asked twice with the
    same cookie (a new session cookie in each answer defeats a `Vary: Cookie` cache)."""
    cookie = ""
    for number in (1, 2):
        request = urllib.request.Request(url)
        request.add_header("Accept-Encoding", "gzip, deflate, br")
        if cookie:
            time.sleep(1.1)  # a signed session cookie carries a time stamp in seconds
            request.add_header("Cookie", cookie)
        with urllib.request.urlopen(request, timeout=60) as answer:
            headers = answer.headers
            answer.read()
        new_cookie = (headers.get("Set-Cookie") or "").split(";", 1)[0].strip()
        shown = {
            key: headers.get(key, "-")
            for key in ("Cache-Control", "Last-Modified", "ETag", "Vary", "Content-Encoding")
        }
        print(f"    answer {number}: {shown}, sets a session cookie: {bool(new_cookie)}")
        if number == 2 and new_cookie and new_cookie != cookie:
            print("    (a new session cookie each time, with Vary: Cookie)")
        cookie = new_cookie


def report_moves(times: dict[str, dict[str, list[float]]]) -> None:
    print("\nMove to the next image, click to the new image loaded (warm, new images):")
    for app, kinds in times.items():
        for what, values in kinds.items():
            if values:
                print(
                    f"  {app:<13} {what:<5} median {statistics.median(values):7.1f} ms, "
                    f"max {max(values):7.1f} ms ({len(values)} moves)"
                )
    for what in ("Next", "Skip"):
        ours = times.get(CONCORD, {}).get(what)
        theirs = times.get("Label Studio", {}).get(what)
        if ours and theirs:
            ratio = statistics.median(ours) / statistics.median(theirs)
            print(f"  Concord / Label Studio, {what}: {ratio:.2f}")


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--label-studio", type=Path, default=LABEL_STUDIO, help="executable")
    args = parser.parse_args(argv)
    executable = args.label_studio
    if not (executable.is_file() and os.access(executable, os.X_OK)):
        print(f"Label Studio is not installed at {executable}; install it with:\n  {INSTALL}")
        return
    work = Path(tempfile.mkdtemp(prefix="concord-vs-label-studio-"))
    root = work / "images"
    try:
        with ExitStack() as outer:
            paths = write_images(root / "first")
            ls = outer.enter_context(label_studio(executable, root, work / "label-studio"))
            project, tasks = ls_project(ls.url, "bench", root, paths)
            first_path = local_files_url(root, paths[0]).split("?", 1)[1]
            loads: dict[str, dict[str, list[Load]]] = {}
            with ExitStack() as stack:
                concord = stack.enter_context(gunicorn(ROOT, root / "first", work / "concord"))
                driver = browser()
                stack.callback(driver.quit)
                introduce(driver, concord)
                sign_in(driver, ls.url)
                urls = {
                    CONCORD: concord,
                    STREAM: f"{ls.url}/projects/{project}/data?labeling=1",
                    TASK_VIEW: f"{ls.url}/projects/{project}/data?task={tasks[0]}",
                }
                for name in (STREAM, TASK_VIEW):
                    wait_visible(driver, urls[name])  # a first visit, not measured
                print(f"Measuring first loads, {args.runs} rounds...")
                loads = interleaved(driver, urls, args.runs)
            print_worker_memory(ls.pid, "label-studio after the first loads")
            for name in (CONCORD, STREAM):
                if loads.get(name, {}).get("cold"):
                    biggest(name, loads[name]["cold"][0])
            cold = loads.get(STREAM, {}).get("cold")
            if cold:
                script = max((e for e in cold[0].entries if e[4] == "script"), key=lambda e: e[1])
                print(f"  Label Studio's biggest script, caching headers: {script[0]}")
                attempt("caching headers", functools.partial(caching, script[0]))
            report(loads, args.runs, first_path)
            print(f"\nMeasuring Next and Skip, {2 * args.runs} moves each...")
            count = 2 * args.runs
            times = attempt("Next and Skip", functools.partial(next_phase, ls, work, root, count))
            if times:
                report_moves(times)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    attempt("benchmark", main)
