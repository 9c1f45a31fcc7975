"""Shared parts of the fuzz tests: JSON of any shape, and the checks run after a fuzz."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from formats.model import ImageRef, RawShape
from formats.registry import CODECS
from formats.resolve import check_shape
from storage.runtime import Services
from workflows.agreement import load_work
from workflows.exchange import ExportFailed, export_annotations

KEYS = ["img01.jpg", "img02.jpg"]
NAMES = ["ann", "bob", "ann#repeat", "model:nanodet"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(KEYS + NAMES + ["car", "person", "rect", "polygon", ""])
)
any_json = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=25,
)
numbers = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10, 5000)


def stored_problems(services: Services) -> list[str]:
    """Every stored shape that the import checks would refuse (server-side sizes)."""
    labels = [label.name for label in services.settings.labels]
    rows = services.store.export_rows()
    problems = [f"{row.image_key}: {row.reason}" for row in rows.skipped]  # unreadable rows
    for row in rows.shapes:
        info = services.images.info(row.image_key)
        ref = ImageRef(row.image_key, info.width, info.height)
        shape = RawShape(row.label, row.kind, tuple(row.coords), tuple(row.points))  # type: ignore[arg-type]
        checked = check_shape(shape, ref, labels)
        if isinstance(checked, str):
            problems.append(checked)
        elif any(not math.isfinite(v) for v in (*row.coords, *(c for p in row.points for c in p))):
            problems.append(f"{row.image_key}: not finite")
    return problems


def outputs_still_run(services: Services) -> None:
    """Every export format and the agreement report run on what is stored."""
    for name in CODECS:
        try:
            export_annotations(services, name)
        except ExportFailed as exc:
            assert "finished" in str(exc), (name, exc)  # nothing finished yet: said so
    load_work(services)
