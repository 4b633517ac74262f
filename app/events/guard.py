"""Shared rules of the bus's units of work: handlers never commit; retries back off exponentially."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.events.subscribers import ON_COMMIT_KEY

GUARD_KEY = "bazaar_handler_running"


class HandlerCommitError(RuntimeError):
    """A subscriber or timer handler called commit(): the bus owns the transaction."""


@contextmanager
def handler_scope(session: Session, owner: str) -> Iterator[None]:
    """While a handler runs, commit() raises; its ``on_commit`` callbacks are dropped if it fails."""
    callbacks = session.info.setdefault(ON_COMMIT_KEY, [])
    mark = len(callbacks)
    outer = session.info.get(GUARD_KEY)
    session.info[GUARD_KEY] = owner
    try:
        yield
    except BaseException:
        del session.info.get(ON_COMMIT_KEY, [])[mark:]
        raise
    finally:
        if outer:
            session.info[GUARD_KEY] = outer
        else:
            session.info.pop(GUARD_KEY, None)


@event.listens_for(Session, "before_commit")
def _refuse_handler_commit(session: Session) -> None:
    owner = session.info.get(GUARD_KEY)
    # Releasing a savepoint the handler opened itself is fine; only the real COMMIT is refused.
    if owner and not session.in_nested_transaction():
        raise HandlerCommitError(f"{owner} called commit(): handlers must not commit, the event bus does")


def backoff(attempt: int, base_ms: int, max_ms: int) -> timedelta:
    """Delay before retry number ``attempt`` (1-based): base, 2*base, 4*base ... capped at max."""
    return timedelta(milliseconds=min(base_ms * 2 ** max(attempt - 1, 0), max_ms))


def error_text(exc: BaseException, limit: int = 4000) -> str:
    """The exception and the tail of its traceback, short enough for an admin list."""
    text = "".join(traceback.format_exception(exc))
    head = f"{type(exc).__name__}: {exc}"
    return (head + "\n" + text[-(limit - len(head)) :])[:limit] if len(text) > limit else text
