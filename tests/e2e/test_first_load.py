"""The first page load in Chromium (issue 17): the page draws with plotly.js's cartesian
bundle from assets/ (the full 4.8 MB plotly.min.js is never fetched), its scripts arrive
compressed, and a second visit takes the versioned bundles from the browser's cache."""

from __future__ import annotations

from tests.e2e.helpers import ConsoleLog, drag, rows, sign_in, wait_rows


def _record(page) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []
    page.on(
        "response",
        lambda r: seen.append(
            {"url": r.url, "status": r.status, "encoding": r.headers.get("content-encoding")}
        ),
    )
    return seen


def test_page_draws_with_the_cartesian_bundle_and_compressed_scripts(browser, app_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # empty cache
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = ConsoleLog(page)
    responses = _record(page)
    page.goto(app_server.url)
    sign_in(page, "first-load")
    assert page.evaluate("() => window.Plotly.version") == "4.1.1"
    urls = [str(r["url"]) for r in responses]
    assert not [u for u in urls if "plotly.min.js" in u], "the full plotly.js was fetched"
    scripts = [r for r in responses if str(r["url"]).split("?")[0].endswith(".js")]
    assert any("plotly-cartesian" in str(r["url"]) for r in scripts)
    bad = [r for r in scripts if r["encoding"] not in ("zstd", "br", "gzip")]
    assert scripts and not bad, bad
    # Drawing still works with this bundle: a rectangle becomes a row.
    before = len(rows(page))
    drag(page, [(100, 120), (300, 260)])
    wait_rows(page, before + 1)
    context.close()
    assert console.errors == [], f"browser console errors: {console.errors}"


def test_a_second_visit_takes_versioned_bundles_from_the_browser_cache(page):
    sign_in(page, "returning")
    page.goto(page.url)
    page.wait_for_selector("#graph .imagelayer image")
    # Fingerprinted bundles (name.v4_4_1m123.js) and the versioned plotly.js come from the
    # cache without asking the server (transferSize 0: not even a 304 round trip).
    versioned = page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".filter(e => /[.]v[0-9]+_[0-9]+_[0-9]+m[0-9]+|plotly-cartesian-/.test(e.name))"
        ".map(e => [e.name, e.transferSize])"
    )
    assert len(versioned) > 5 and any("plotly-cartesian" in name for name, _ in versioned)
    assert all(size == 0 for _, size in versioned), versioned
