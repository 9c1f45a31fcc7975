"""User-supplied text (labels, account names, file names) made safe to show in a Plotly figure.

Plotly renders a subset of HTML in trace names, tick labels, axis titles, annotations, shape
labels and hover text, so `<a href=...>` would become a live link and `<b>` bold. Escaping
`&`, `<` and `>` makes Plotly show the text literally (it decodes `&amp;`, `&lt;`, `&gt;`
and numeric entities, but not `&quot;`, so quotes stay as they are).
"""

from __future__ import annotations

import html


def plot_text(text: object) -> str:
    """`text` as Plotly should show it, letter for letter (no tags, no entities)."""
    return html.escape(str(text), quote=False)


def template_text(text: str) -> str:
    """`text` for a place Plotly reads as a template (hovertemplate, texttemplate): escaped,
    and `%{` written so no `%{variable}` in it is filled in."""
    return plot_text(text).replace("%{", "%&#123;")
