"""The address names the project and image: it follows Next, a reload stays put, Back goes
to the image before, a shared link opens its image in a fresh browser, and a link to an
image that is gone says so."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.e2e.helpers import ConsoleLog, sign_in, wait_for_address, wait_for_image, wait_until


def shown_name(page) -> str:
    """The image name the position line shows ("3 / 12 · name.jpg")."""
    return page.inner_text("#position-text").split(" · ")[-1].strip()


def address(page) -> str:
    """The page's address as the browser has it (Playwright's page.url can lag behind an
    address a callback wrote)."""
    return str(page.evaluate("() => window.location.href"))


def address_image(page) -> str | None:
    found = parse_qs(urlsplit(address(page)).query)
    return (found.get("image") or [None])[0]


def test_the_address_follows_the_image_and_back_and_reload_use_it(page, app_server, browser):
    sign_in(page, "linker")
    first = shown_name(page)
    wait_until(lambda: (address_image(page) or "").endswith(first), what="?image= on the address")
    assert parse_qs(urlsplit(address(page)).query)["project"] == ["default"]
    page.click("#next")
    wait_until(lambda: shown_name(page) != first, what="the next image")
    second = shown_name(page)
    wait_until(lambda: (address_image(page) or "").endswith(second), what="the address follows")
    link = address(page)

    page.go_back()  # the image before, in the same page
    wait_until(lambda: shown_name(page) == first, what="Back shows the image before")
    page.go_forward()
    wait_until(lambda: shown_name(page) == second, what="Forward shows it again")

    page.click("#next")
    wait_until(lambda: shown_name(page) not in (first, second), what="a third image")
    third = shown_name(page)
    wait_for_address(page)  # a reload opens what the address names
    page.reload()
    wait_for_image(page)
    wait_until(lambda: shown_name(page) == third, what="a reload stays put")

    # A colleague opens the shared link in a browser of their own.
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = context.new_page()
    console = ConsoleLog(other)
    other.goto(link)
    sign_in(other, "colleague")
    wait_until(lambda: shown_name(other) == second, what="the linked image")
    gone = app_server.url.rstrip("/") + "/?project=default&image=nope%2Fgone.jpg"
    other.goto(gone)
    wait_for_image(other)
    wait_until(
        lambda: "not among this project's images" in other.inner_text("#message"),
        what="the gone image explained",
    )
    assert "nope/gone.jpg" in other.inner_text("#message")
    context.close()
    assert console.errors == [], console.errors
