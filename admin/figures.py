"""Marketplace figures of the staff dashboard: how many listings, negotiations and payments are in
each state, read straight from the domains' state columns (counts only, like the row counts).

A domain whose table is not there (not migrated yet, or lifted out) is left out of the dashboard.
"""

from __future__ import annotations

from sqlalchemy import text

from app.extensions import db

# (chart title, schema, table, state column, soft-delete column or ""): identifiers are constants,
# never user input. Soft-deleted rows are their own bar, "deleted", whatever state they were left in.
STATE_COUNTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Listings by status", "listings", "listings", "status", "deleted_at"),
    ("Negotiations by status", "offers", "negotiations", "status", ""),
    ("Payments by state", "payments", "payments", "state", ""),
)
EXISTING = text(
    "SELECT table_schema || '.' || table_name FROM information_schema.tables "
    "WHERE table_schema || '.' || table_name = ANY(:names)"
)


def state_counts() -> list[tuple[str, list[tuple[str, int]]]]:
    """``[(title, [(state, count), ...]), ...]``, largest state first, for the tables that exist."""
    names = [f"{schema}.{table}" for _, schema, table, _, _ in STATE_COUNTS]
    present = set(db.session.execute(EXISTING, {"names": names}).scalars())
    figures = []
    for title, schema, table, column, deleted in STATE_COUNTS:
        if f"{schema}.{table}" not in present:
            continue
        state = f'"{column}"::text'
        if deleted:
            state = f"CASE WHEN \"{deleted}\" IS NOT NULL THEN 'deleted' ELSE {state} END"
        rows = db.session.execute(
            text(f'SELECT {state}, count(*) FROM "{schema}"."{table}" GROUP BY 1 ORDER BY 2 DESC, 1')  # noqa: S608
        ).all()
        figures.append((title, [(str(state), int(count)) for state, count in rows]))
    return figures
