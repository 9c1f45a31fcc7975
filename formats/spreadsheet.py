"""CSV cells that are safe to open in a spreadsheet (no formula injection).

The rule, shared by every CSV the app writes and by the CSV importers: a text cell whose
first character a spreadsheet reads as the start of a formula (`= + - @`, tab, carriage
return, or their full-width forms `＝ ＋ － ＠`) is written with a single quote `'` in front,
as OWASP advises, so Excel and LibreOffice show it as text. A cell that is a plain number
(such as the coordinate `-3.5`) is left alone. So that the importers can give back exactly
what was exported, a cell that already starts with quotes followed by such a character
(`'=x`) gets one more quote too, and reading strips exactly one leading quote from any cell
that starts with one or more quotes followed by such a character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Characters a spreadsheet takes as the start of a formula (or that hide one after them).
TRIGGERS = "=+-@\t\r＝＋－＠"

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_QUOTED = re.compile("'+[" + re.escape(TRIGGERS) + "]")


def neutralise(cell: object) -> object:
    """The cell as written to a CSV: text that would run as a formula gets a leading `'`;
    numbers (and text that is a plain number) and everything else are returned unchanged."""
    if not isinstance(cell, str) or not cell:
        return cell
    if cell[0] in TRIGGERS and not _NUMBER.fullmatch(cell):
        return "'" + cell
    if _QUOTED.match(cell):
        return "'" + cell
    return cell


def neutralise_row(cells: Iterable[object]) -> list[object]:
    """Every cell of a CSV row through `neutralise`."""
    return [neutralise(cell) for cell in cells]


def restore(cell: str) -> str:
    """The text a neutralised cell stood for: one leading `'` removed when quotes are followed
    by a formula character; any other cell (from this app or another tool) is unchanged."""
    return cell[1:] if _QUOTED.match(cell) else cell
