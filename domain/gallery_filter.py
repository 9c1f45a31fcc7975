"""The gallery's filter and page: parsed from the URL's query string (so a link reproduces a
view), validated with clear messages, written back, and narrowed to what a viewer may see."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlencode

from domain.sources import GOLD, MODEL_PREFIX

VIEW = "gallery"  # ?view=gallery opens the gallery tab
PER_PAGE = 60
MAX_PAGE = 1_000_000
MAX_TEXT = 200  # characters kept of a name, label or annotator in the URL

# status filter value -> what the page calls it
STATUSES = {
    "todo": "To do",
    "done": "Done",
    "empty": "No objects",
    "skipped": "Skipped",
    "reviewed": "Reviewed",
    "rework": "Needs rework",
}
EVERYONE = "everyone"  # show: every person's shapes
CONSENSUS = "consensus"  # show: what the people who finished agree on
# Parameters only reviewers may set: they reveal other people's work.
REVIEWER_ONLY = ("annotator", "finished", "disagreement", "show")


@dataclass(frozen=True)
class GalleryFilter:
    """Which images of which batch the gallery lists, whose shapes it draws, which page.

    Empty strings and None mean "no condition"; page counts from 1."""

    batch: str | None = None  # None: the batch the annotate view is on
    status: str = ""
    label: str = ""
    annotator: str = ""  # reviewers: one annotator's work (status and label are theirs)
    finished: int | None = None  # exactly this many people finished the image
    disagreement: float | None = None  # remembered disagreement above this
    score: float | None = None  # a model's shape on the image scores below this
    name: str = ""  # the image name contains this (any case)
    show: str = ""  # whose shapes: "" (the annotator filter, else everyone) or see shows()
    page: int = 1

    @property
    def narrows(self) -> bool:
        """True when some condition leaves images out (the batch's own order otherwise)."""
        conditions = (self.status, self.label, self.annotator, self.name)
        numbers = (self.finished, self.disagreement, self.score)
        return any(conditions) or any(n is not None for n in numbers)

    def first_page(self) -> GalleryFilter:
        """The same filter on page 1 (a changed filter starts again from the top)."""
        return replace(self, page=1)

    def shown(self) -> str:
        """Whose shapes are drawn: a name, everyone, consensus, gold or model:<name>."""
        return self.show or self.annotator or EVERYONE


def _text(values: dict[str, list[str]], name: str) -> str:
    found = values.get(name, [""])[-1]
    return " ".join(found.split())[:MAX_TEXT]


def _number(
    values: dict[str, list[str]], name: str, what: str, problems: list[str]
) -> float | None:
    raw = _text(values, name)
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not 0 <= number <= 1:
        problems.append(f"{what} must be a number from 0 to 1, not {raw[:20]!r}: ignored.")
        return None
    return number


def _whole(values: dict[str, list[str]], name: str, what: str, problems: list[str]) -> int | None:
    raw = _text(values, name)
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > 1000:
        problems.append(f"{what} must be a whole number from 0, not {raw[:20]!r}: ignored.")
        return None
    return int(raw)


def parse_query(search: str | None) -> tuple[GalleryFilter, list[str]]:
    """The filter a query string asks for, and what was wrong with it (each bad part is
    replaced by its default and named in a message); never raises."""
    text = search[1:] if isinstance(search, str) and search.startswith("?") else search or ""
    values = parse_qs(text if isinstance(text, str) else "", keep_blank_values=True)
    problems: list[str] = []
    status = _text(values, "status").lower()
    if status and status not in STATUSES:
        known = ", ".join(STATUSES)
        problems.append(f"Unknown status {status[:20]!r} (one of {known}): showing every status.")
        status = ""
    page_text = _text(values, "page")
    page = 1
    if page_text:
        if page_text.isdigit() and 1 <= int(page_text) <= MAX_PAGE:
            page = int(page_text)
        else:
            problems.append(f"Page {page_text[:20]!r} is not a page number: showing page 1.")
    batch = values.get("batch")
    found = GalleryFilter(
        batch=" ".join(batch[-1].split())[:MAX_TEXT] if batch else None,
        status=status,
        label=_text(values, "label"),
        annotator=_text(values, "annotator"),
        finished=_whole(values, "finished", "Finished by", problems),
        disagreement=_number(values, "disagreement", "Disagreement above", problems),
        score=_number(values, "score", "Model score below", problems),
        name=_text(values, "name"),
        show=_text(values, "show"),
        page=page,
    )
    return found, problems


def to_query(found: GalleryFilter) -> str:
    """The query string of a filter (view=gallery first, defaults left out)."""
    pairs: list[tuple[str, str]] = [("view", VIEW)]
    if found.batch is not None:
        pairs.append(("batch", found.batch))
    for name in ("status", "label", "annotator", "name", "show"):
        value = getattr(found, name)
        if value:
            pairs.append((name, value))
    for name in ("finished", "disagreement", "score"):
        value = getattr(found, name)
        if value is not None:
            pairs.append((name, f"{value:g}"))
    if found.page != 1:
        pairs.append(("page", str(found.page)))
    return "?" + urlencode(pairs)


def is_gallery_view(search: str | None) -> bool:
    """True when a URL's query string asks for the gallery (view=gallery)."""
    text = search[1:] if isinstance(search, str) and search.startswith("?") else search or ""
    return VIEW in parse_qs(text if isinstance(text, str) else "").get("view", [])


@dataclass(frozen=True)
class Scope:
    """What the server lists for one viewer: whose statuses and labels count (`subject`,
    None for everyone's), whether only images that subject worked on are listed, and
    whose shapes are drawn."""

    subject: str | None
    worked_only: bool
    shown: str


def for_viewer(
    found: GalleryFilter, name: str | None, reviewer: bool
) -> tuple[GalleryFilter, Scope, list[str]]:
    """The filter narrowed to what this person may see, its scope, and what was dropped.

    An annotator sees their own work only, whatever the request says: the subject and the
    shapes are theirs, and filters over other people's work are dropped."""
    if reviewer:
        subject = found.annotator or None
        shown = found.shown()
        return found, Scope(subject, bool(found.annotator), shown), []
    dropped = [part for part in REVIEWER_ONLY if _set(getattr(found, part))]
    notes = []
    if dropped and not (dropped == ["annotator"] and found.annotator == name):
        notes.append("Only your own work is shown: " + ", ".join(dropped) + " left out.")
    mine = replace(found, annotator="", finished=None, disagreement=None, show="")
    return mine, Scope(name or "", False, name or ""), notes


def _set(value: object) -> bool:
    return value is not None and value != ""


def show_choices(annotators: list[str], models: list[str]) -> list[tuple[str, str]]:
    """(value, label) of whose shapes a reviewer can draw."""
    choices = [(EVERYONE, "Everyone"), (CONSENSUS, "Consensus"), (GOLD, "Gold")]
    choices += [(m, m.removeprefix(MODEL_PREFIX) + " (model)") for m in models]
    return choices + [(a, a) for a in annotators]


def page_count(total: int, per_page: int = PER_PAGE) -> int:
    """How many pages a result of `total` images fills (at least 1)."""
    return max(1, -(-total // per_page))


def open_target(
    click: object, items: object, reviewer: bool
) -> tuple[dict[str, object], str] | None:
    """Where a clicked thumbnail leads: ({"batch", "key", "index"}, "review" for reviewers
    or "annotate"), or None for a click that names no thumbnail of the page on screen."""
    if not isinstance(click, dict) or not isinstance(items, dict):
        return None
    tiles, number, batch = items.get("tiles"), click.get("tile"), items.get("batch")
    if not isinstance(tiles, list) or not isinstance(number, int) or not isinstance(batch, str):
        return None
    if not 0 <= number < len(tiles) or not isinstance(tiles[number], dict):
        return None
    key, index = tiles[number].get("key"), tiles[number].get("index")
    if not isinstance(key, str) or not isinstance(index, int):
        return None
    return {"batch": batch, "key": key, "index": index}, "review" if reviewer else "annotate"
