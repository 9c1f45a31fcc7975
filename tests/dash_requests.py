"""Hand-crafted Dash callback requests, built from the app's own /_dash-dependencies, the
way a curious user with the browser's dev tools could send them."""

from __future__ import annotations

from typing import Any

import requests


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
        """Post the sign-in form; the session keeps the cookie on success."""
        return self.session.post(
            f"{self.base_url}/login",
            data={"name": name, "password": password, "next": "/"},
            allow_redirects=False,
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
