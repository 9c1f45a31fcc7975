"""Hand-crafted Dash callback requests, built from the app's own /_dash-dependencies, the
way a curious user with the browser's dev tools could send them."""

from __future__ import annotations

import re
from typing import Any

import requests

TOKEN = re.compile(r'name="csrf" value="([^"]*)"')


def form_token(session: requests.Session, base_url: str) -> str:
    """The sign-in form's token (the session keeps the cookie it belongs to)."""
    page = session.get(f"{base_url.rstrip('/')}/login")
    found = TOKEN.search(page.text)
    assert found, "the sign-in page has no form token"
    return found[1]


def page_token(layout: Any) -> str:
    """The token of the page's sign-out form, from /_dash-layout's JSON."""
    if isinstance(layout, dict):
        props = layout.get("props", {})
        if isinstance(props, dict) and props.get("name") == "csrf":
            return str(props["value"])
        values = layout.values()
    elif isinstance(layout, list):
        values = layout
    else:
        return ""
    for value in values:
        found = page_token(value)
        if found:
            return found
    return ""


def _outputs(output: str) -> list[dict[str, str]] | dict[str, str]:
    def one(spec: str) -> dict[str, str]:
        component, prop = spec.rsplit(".", 1) if "@" not in spec else spec.split(".", 1)
        return {"id": component, "property": prop}

    if output.startswith(".."):
        return [one(part) for part in output.strip(".").split("...")]
    return one(output)


class DashClient:
    """Calls an app's callbacks over HTTP with a requests session (and its cookies)."""

    def __init__(self, base_url: str, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()

    def sign_in(self, name: str, password: str) -> requests.Response:
        """Open the sign-in page and post its form; the session keeps the cookie on success."""
        token = form_token(self.session, self.base_url)
        return self.session.post(
            f"{self.base_url}/login",
            data={"name": name, "password": password, "next": "/", "csrf": token},
            allow_redirects=False,
        )

    def sign_out(self) -> requests.Response:
        """Press the page's Sign out (a form post carrying the page's token)."""
        layout = self.session.get(f"{self.base_url}/_dash-layout").json()
        return self.session.post(
            f"{self.base_url}/logout", data={"csrf": page_token(layout)}, allow_redirects=False
        )

    def dependencies(self) -> list[dict[str, Any]]:
        """The callback specs the page loads."""
        response = self.session.get(f"{self.base_url}/_dash-dependencies")
        response.raise_for_status()
        return response.json()

    def spec(self, first_input: str, output_part: str, specs: list[dict[str, Any]] | None = None):
        """The callback whose first input is `first_input` (id.prop) and whose output names
        `output_part`."""
        for dep in specs if specs is not None else self.dependencies():
            head = dep["inputs"][0]
            if f"{head['id']}.{head['property']}" == first_input and output_part in dep["output"]:
                return dep
        raise LookupError(f"no callback from {first_input} to {output_part}")

    def call(
        self,
        dep: dict[str, Any],
        values: dict[str, Any],
        changed: str | None = None,
        initial: bool = False,
    ) -> requests.Response:
        """Send the callback with `values` ("id.prop" -> value) for its inputs and state;
        `changed` (default: the first input) is the one that triggered it, or nothing when
        `initial` (the call Dash makes as the page loads)."""

        def filled(entries: list[dict[str, str]]) -> list[dict[str, Any]]:
            return [{**e, "value": values.get(f"{e['id']}.{e['property']}")} for e in entries]

        head = dep["inputs"][0]
        body = {
            "output": dep["output"],
            "outputs": _outputs(dep["output"]),
            "inputs": filled(dep["inputs"]),
            "state": filled(dep["state"]),
            "changedPropIds": [] if initial else [changed or f"{head['id']}.{head['property']}"],
        }
        return self.session.post(f"{self.base_url}/_dash-update-component", json=body)
