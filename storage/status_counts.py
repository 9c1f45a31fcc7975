"""Per-annotator, per-batch status counts, changed in the transaction of every status
change they count (so they stay right under concurrent saves: the counter rows are
updated with an atomic upsert, in a fixed order)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.images import batch_of
from storage.schema import STATUS_COUNTS

# (image key, annotator, status before, status after); None: no status
StatusChange = tuple[str, str, str | None, str | None]


def count_changes(conn: Any, changes: Iterable[StatusChange]) -> None:
    """Move the counts by the status changes just written on `conn`."""
    deltas: Counter[tuple[str, str, str]] = Counter()
    for key, who, before, after in changes:
        if before == after:
            continue
        batch = batch_of(key)
        if before is not None:
            deltas[(who, batch, before)] -= 1
        if after is not None:
            deltas[(who, batch, after)] += 1
    for (who, batch, status), delta in sorted(deltas.items()):  # one order: no deadlock
        if delta:
            _add(conn, who, batch, status, delta)


def _add(conn: Any, who: str, batch: str, status: str, delta: int) -> None:
    row = {"annotator": who, "batch": batch, "status": status, "count": delta}
    name = conn.dialect.name
    if name in ("postgresql", "sqlite"):
        dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
        statement = dialect_insert(STATUS_COUNTS).values(**row)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["annotator", "batch", "status"],
                set_={"count": STATUS_COUNTS.c.count + delta},
            )
        )
        return
    columns = STATUS_COUNTS.c  # another database: update, else insert
    same = (columns.annotator == who) & (columns.batch == batch) & (columns.status == status)
    if conn.execute(update(STATUS_COUNTS).where(same).values(count=columns.count + delta)).rowcount:
        return
    conn.execute(STATUS_COUNTS.insert().values(**row))


def read_counts(conn: Any, annotator: str, batch: str) -> dict[str, int]:
    """status -> how many images of the batch the annotator has in it."""
    columns = STATUS_COUNTS.c
    query = select(columns.status, columns.count).where(
        columns.annotator == annotator, columns.batch == batch
    )
    return {row.status: int(row.count) for row in conn.execute(query)}
