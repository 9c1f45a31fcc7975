"""The Agreement tab in the browser: two people draw, then compare their shapes."""

from __future__ import annotations

import uuid

from tests.e2e.helpers import ConsoleLog, drag, sign_in, wait_rows, wait_until

FIRST_BOX = [(100, 120), (300, 260)]
SECOND_BOX = [(120, 140), (320, 280)]  # IoU with the first: 21600 / 34400 = 0.63


def draw_and_save(page, box: list[tuple[int, int]]) -> None:
    drag(page, box)
    wait_rows(page, 1)
    wait_until(lambda: "All changes saved" in page.inner_text("#save-status"), what="saved")


def figure_of(page, graph: str, expression: str):
    """Evaluate `expression` on the plotly div of a dcc.Graph (as `gd`); None until it exists."""
    return page.evaluate(
        f"() => {{ const gd = document.querySelector('#{graph} .js-plotly-plot');"
        f" return gd && gd.data ? ({expression}) : null; }}"
    )


def test_two_annotators_compared_on_the_agreement_tab(page, browser, app_server) -> None:
    first, second = (f"rater-{uuid.uuid4().hex[:6]}" for _ in range(2))
    sign_in(page, first)
    draw_and_save(page, FIRST_BOX)

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = context.new_page()
    other.set_default_timeout(15_000)
    console = ConsoleLog(other)
    other.goto(app_server.url)
    sign_in(other, second)
    draw_and_save(other, SECOND_BOX)
    context.close()
    assert console.errors == [], f"second browser's console errors: {console.errors}"

    page.locator(".nav-tabs .nav-link", has_text="Agreement").click()
    page.wait_for_selector("#agreement-compute", state="visible")
    assert page.is_hidden("#graph")  # the annotate view is hidden, not gone
    page.click("#agreement-compute")

    alpha = wait_until(
        lambda: page.is_visible("#card-alpha") and page.inner_text("#card-alpha"),
        timeout=60,
        what="the alpha card",
    )
    assert "Krippendorff" in alpha
    # both boxes are the same object at IoU 0.5; one image has two annotators
    assert page.inner_text("#card-f1 .agreement-value") == "1.00"
    assert page.inner_text("#card-images .agreement-value") == "1"
    names = sorted([first, second])
    heat = wait_until(
        lambda: figure_of(
            page,
            "agreement-heatmap",
            "gd.data[0] && gd.data[0].type === 'heatmap' ? [gd.data[0].x, gd.data[0].z] : null",
        ),  # fmt: skip
        what="the heatmap",
    )
    assert heat[0] == names and heat[1][0][1] == heat[1][1][0] == 1.0
    assert page.locator("#agreement-heatmap .heatmaplayer").count() == 1

    page.locator("#agreement-images .ag-row[row-index='0'] .ag-cell[col-id='image']").click()
    shapes = wait_until(
        lambda: figure_of(page, "agreement-compare-graph", "gd.layout.shapes"),
        what="the comparison figure",
    )
    assert sorted(s["name"] for s in shapes) == names
    assert len({s["line"]["color"] for s in shapes}) == 2
    drawn = wait_until(
        lambda: page.locator("#agreement-compare-graph .shapelayer path").count() == 2,
        what="two shapes drawn",
    )
    assert drawn
    assert page.locator("#agreement-compare-graph .imagelayer image").count() == 1
    assert page.locator("#agreement-compare .modebar-btn[data-title='Draw rectangle']").count() == 0
    legend = page.inner_text("#agreement-compare .annotator-key >> nth=0")
    assert names[0] in legend and "1 shape(s)" in legend

    page.click("#agreement-compute")  # nothing changed: the report shown is kept
    wait_until(lambda: "Up to date" in page.inner_text("#agreement-status"), what="cache hit")
    assert page.is_enabled("#agreement-compute")

    # arrow keys move the slider, not the hidden annotate view; a new threshold recomputes
    where = page.inner_text("#position-text")
    page.locator("#agreement-threshold [role=slider]").first.focus()
    page.keyboard.press("ArrowRight")
    page.click("#agreement-compute")
    wait_until(lambda: "IoU ≥ 0.55" in page.inner_text("#agreement-status"), what="recomputed")
    assert page.inner_text("#position-text") == where


def test_names_that_look_like_html_show_as_text_in_the_charts(page, browser) -> None:
    tag = uuid.uuid4().hex[:6]
    bold, link = f"<b>z{tag}</b>", f'<a href="http://x.example/">y{tag}</a>'
    sign_in(page, bold)
    draw_and_save(page, FIRST_BOX)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = context.new_page()
    other.set_default_timeout(15_000)
    console = ConsoleLog(other)
    other.goto(page.url)
    sign_in(other, link)
    draw_and_save(other, SECOND_BOX)
    context.close()
    assert console.errors == [], f"second browser's console errors: {console.errors}"

    page.locator(".nav-tabs .nav-link", has_text="Agreement").click()
    page.wait_for_selector("#agreement-compute", state="visible")
    page.click("#agreement-compute")
    wait_until(
        lambda: (
            page.locator("#agreement-heatmap .heatmaplayer").count() == 1
            and page.locator("#agreement-misses .xtick").count() >= 2
        ),
        timeout=60,
        what="the heatmap and the bias charts",
    )

    ticks = page.evaluate(
        "() => [...document.querySelectorAll('#agreement-results .xtick text,"
        " #agreement-results .ytick text')].map(t => t.textContent)"
    )
    assert bold in ticks and link in ticks  # shown letter for letter
    links = "#agreement-results svg a, #agreement-compare svg a"
    assert page.locator(links).count() == 0  # no live link anywhere in the charts
    bolded = page.evaluate(
        "() => [...document.querySelectorAll('#agreement-results svg tspan')]"
        ".filter(t => (t.getAttribute('style') || '').includes('bold')).length"
    )
    assert bolded == 0
