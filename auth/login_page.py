"""The sign-in page: plain HTML (no Dash, so nothing of the app loads before sign-in)."""

from __future__ import annotations

from markupsafe import escape

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Concord</title>
<link rel="stylesheet" href="/assets/00-bootstrap-5.3.8.min.css">
</head>
<body class="bg-light">
<main class="container" style="max-width: 24rem; margin-top: 10vh">
<h1 class="h3 mb-3">Concord</h1>
<p class="text-muted">Sign in to annotate.</p>
{alert}
<form method="post" action="/login" id="signin">
<input type="hidden" name="next" value="{next}">
<div class="mb-3">
<label class="form-label" for="name">Name</label>
<input class="form-control" id="name" name="name" value="{name}" autocomplete="username"
 required autofocus maxlength="64">
</div>
<div class="mb-3">
<label class="form-label" for="password">Password</label>
<input class="form-control" id="password" name="password" type="password"
 autocomplete="current-password" required>
</div>
<button class="btn btn-primary w-100" type="submit" id="signin-button">Sign in</button>
</form>
</main>
</body>
</html>
"""


def sign_in_page(next_path: str = "/", name: str = "", problem: str = "") -> str:
    """The page, with the name kept and the problem (if any) shown above the form."""
    alert = (
        f'<div class="alert alert-danger" role="alert" id="signin-problem">{escape(problem)}</div>'
        if problem
        else ""
    )
    return PAGE.format(alert=alert, next=escape(next_path), name=escape(name))


def safe_next(raw: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    return raw
