"""Idempotent demo data that makes a fresh install look alive.

Each step lives in its own module, uses the owning domain's service functions (never its tables),
and can run again without duplicating anything. Steps report progress as they go.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

# Run in order: later steps use what earlier ones created (users before listings before offers).
STEPS: tuple[str, ...] = ("seeds.staff", "seeds.catalog", "seeds.buyers", "seeds.conversations", "seeds.sale")

Echo = Callable[[str], None]


def run_seeds(echo: Echo = print, steps: tuple[str, ...] = STEPS) -> None:
    from app.extensions import db

    for index, dotted in enumerate(steps, start=1):
        module = importlib.import_module(dotted)
        label = dotted.rsplit(".", 1)[-1]
        echo(f"seeding {label} ({index}/{len(steps)})")
        module.seed(echo=echo)
        db.session.commit()
    echo("seed data ready; demo accounts (email / password):")
    for dotted in steps:
        for line in getattr(importlib.import_module(dotted), "demo_accounts", list)():
            echo(f"  {line}")


def progress(echo: Echo, label: str, done: int, total: int, every: int = 50) -> None:
    """Print ``label: done/total`` now and then, and at the end."""
    if done == total or done % every == 0:
        echo(f"  {label}: {done}/{total}")
