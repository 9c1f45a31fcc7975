"""The first page load in Chromium (issue 17): the page draws with plotly.js's cartesian
bundle from assets/ (the full 4.8 MB plotly.min.js is never fetched), its scripts arrive
compressed, and a second visit takes the versioned bundles from the browser's cache."""

from __future__ import annotations

from tests.e2e.helpers import ConsoleLog, drag, rows, sign_in, wait_rows, wait_until


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


def _mounted(page) -> dict[str, int]:
    return page.evaluate(
        "() => ({grids: document.querySelectorAll('.ag-root-wrapper').length,"
        " graphs: document.querySelectorAll('.js-plotly-plot').length,"
        " gallery: document.querySelectorAll('#gallery-name').length,"
        " admin: document.querySelectorAll('#admin-users').length})"
    )


def test_hidden_tabs_are_built_when_first_opened_and_kept(page):
    sign_in(page, "lazy-tabs")
    page.wait_for_selector("#graph .imagelayer image")
    page.wait_for_selector("#grid .ag-root-wrapper")  # the table follows the picture
    # At load only the Annotate view is built: its grid and figure, no other tab's parts.
    assert _mounted(page) == {"grids": 1, "graphs": 1, "gallery": 0, "admin": 0}
    # The layout and the callback map came once each (the page's preload was used).
    asked = page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => /_dash-(layout|dependencies)$/.test(n))"
    )
    assert sorted(name.rsplit("/", 1)[-1] for name in asked) == [
        "_dash-dependencies",
        "_dash-layout",
    ], asked
    # The script chunks the Annotate view needs are the preloaded ones, each fetched once.
    chunks = page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name.split('?')[0])"
        ".filter(n => /[/]async-[a-z-]+[.]js$/.test(n))"
    )
    preloaded = page.evaluate(
        "() => Array.from(document.querySelectorAll('link[rel=preload][as=script]'))"
        ".map(l => l.href)"
    )
    assert len(preloaded) == 4 and sorted(chunks) == sorted(preloaded), (chunks, preloaded)
    page.click("a.nav-link:has-text('Gallery')")
    page.wait_for_selector("#gallery-grid .gallery-tile")
    page.fill("#gallery-name", "kept")
    page.click("a.nav-link:has-text('Admin')")
    wait_until(lambda: page.inner_text("#admin-users").strip(), what="the Admin tab's list")
    page.click("a.nav-link:has-text('Annotate')")
    page.click("a.nav-link:has-text('Gallery')")
    # Built once, then kept: what was typed is still there, and nothing was built twice.
    assert page.input_value("#gallery-name") == "kept"
    built = _mounted(page)
    assert built["gallery"] == 1 and built["admin"] == 1 and built["grids"] > 1, built


def test_the_table_comes_even_when_the_picture_cannot(browser, app_server):
    """The shapes table waits for the picture, but not for one that fails to load."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.route("**/images/**", lambda route: route.abort())  # every picture fails
    page.goto(app_server.url)
    sign_in(page, "no-picture", image=False)
    page.wait_for_selector("#grid .ag-root-wrapper", timeout=5_000)
    assert "Draw a shape on the image" in page.inner_text("#grid")
    context.close()
