"""The sign-in page: plain HTML (no Dash, so nothing of the app loads before sign-in)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

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
<input type="hidden" name="csrf" value="{csrf}">
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


def sign_in_page(next_path: str = "/", name: str = "", problem: str = "", csrf: str = "") -> str:
    """The page, with the name kept, the problem (if any) shown above the form and the
    form's token against cross-site sign-ins."""
    alert = (
        f'<div class="alert alert-danger" role="alert" id="signin-problem">{escape(problem)}</div>'
        if problem
        else ""
    )
    return PAGE.format(alert=alert, next=escape(next_path), name=escape(name), csrf=escape(csrf))


# Browsers drop tabs and newlines anywhere in a URL and read a backslash as a slash, so
# "/\t/evil.example" and "/\\evil.example" both mean //evil.example: another host.
_DROPPED = str.maketrans("", "", "\t\n\r")


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F


def _same_site_path(text: str) -> bool:
    """True for a path on this site as a browser reads it: /x, never //x, /\\x or x:..."""
    read = text.translate(_DROPPED).replace("\\", "/")
    if not read.startswith("/") or read.startswith("//") or any(map(_is_control, read)):
        return False
    parts = urlsplit(read)
    return not parts.scheme and not parts.netloc


def safe_next(raw: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host). Tabs,
    newlines and other control characters, backslashes, scheme-relative and encoded
    variants of them (%2F%2F, %5C, %09...) all give "/"."""
    if not raw or len(raw) > 2048 or any(map(_is_control, raw)):
        return "/"
    text = raw
    for _ in range(3):  # also as decoded once, twice, thrice: a later hop may decode it
        if not _same_site_path(text):
            return "/"
        text = unquote(text)
    return raw
