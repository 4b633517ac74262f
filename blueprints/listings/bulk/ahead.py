"""Validating an import's batches in a forked child process, one batch ahead of the job's writes.

In one process, validating (pure Python) and writing (COPY formatting, round trips) shared one GIL:
validation alone kept a core busy while PostgreSQL left the other half idle. Here a child validates
batch n + 1 on the other core while the job's process writes batch n.

The child is forked once the file is parsed and the validator loaded, so it starts with the rows,
the categories and the rubrics: validation reads no database. It closes every file descriptor it
inherited but its end of a socket pair and stdio (so it holds no database connection, nor the job's
advisory lock, even for a moment after the job's process died) and ends with ``os._exit`` (no finalizer
of the parent's objects runs in it). Each batch's valid rows (with their COPY text while batches create
listings) and issues come back pickled through the socket pair, whose backpressure keeps the child at
most about one batch ahead. It writes nothing, so a resumed run sees committed batches only.

Lifetime: the child is killed and reaped when the job's loop ends, however it ends. If the job's
process dies outright (SIGKILL; RQ kills the work horse's whole process group), the child's next send
fails, as nobody holds the other end any more, and it exits.
"""

from __future__ import annotations

import os
import signal
import socket
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection

from blueprints.listings.bulk.reading import iter_batches
from blueprints.listings.bulk.rows import Issue, RowValidator, ValidRow
from blueprints.listings.bulk.writing import copy_text

_SHUTDOWN = (signal.SIGTERM, signal.SIGINT)
Validated = tuple[list, list[ValidRow], list[Issue]]  # a batch of (row number, raw row), its valid rows, its issues


def validate_batch(batch: list, validator: RowValidator, seen: dict[str, int]) -> tuple[list[ValidRow], list[Issue]]:
    """The batch's valid rows and issues; ``seen`` (sku -> first row) carries duplicates across batches."""
    valid: list[ValidRow] = []
    issues: list[Issue] = []
    for number, raw in batch:
        result = validator.validate(number, raw)
        if isinstance(result, ValidRow):
            first = seen.setdefault(result.sku, number)
            if first != number:
                issues.append(Issue(number, "sku", "duplicate", f"Same sku as row {first}.", result.sku))
                continue
            valid.append(result)
        else:
            issues.extend(result)
    return valid, issues


class _Failure(str):
    """The traceback of an error raised while validating in the child."""


def _validate_all(rows: list, start: int, size: int, validator: RowValidator, job: Connection, fresh: bool) -> None:
    seen: dict[str, int] = {}
    try:
        for batch in iter_batches(rows, start, size):
            valid, issues = validate_batch(batch, validator, seen)
            while job.poll():  # the job's latest word on whether its batches still create listings
                fresh = job.recv()
            # COPY text is the other big part of the CPU work, but useless for rows found by sku (a re-run);
            # plain tuples pickle faster than the dataclass
            sent = [(r.row, r.sku, r.publish, r.values, copy_text(r) if fresh else None) for r in valid]
            job.send((sent, issues))
    except (BrokenPipeError, ConnectionResetError):
        return  # the job stopped reading: it ended or died
    except BaseException:  # noqa: BLE001 - raised again in the job's process
        job.send(_Failure(traceback.format_exc()))


class Ahead:
    """The job's side: iterate for the validated batches, say after each write whether it created listings."""

    def __init__(self, child: Connection, rows: list, start: int, size: int, fresh: bool) -> None:
        self.child, self.rows, self.start, self.size, self.fresh = child, rows, start, size, fresh

    def __iter__(self) -> Iterator[Validated]:
        for batch in iter_batches(self.rows, self.start, self.size):
            try:
                result = self.child.recv()
            except EOFError:
                raise RuntimeError("the import's validating process ended early") from None
            if isinstance(result, _Failure):
                raise RuntimeError(f"validating the import failed:\n{result}")
            sent, issues = result
            yield batch, [ValidRow(*fields) for fields in sent], issues

    def created(self, fresh: bool) -> None:
        """Whether the last batch created listings: the child formats COPY text ahead only while they do."""
        if fresh != self.fresh:
            self.fresh = fresh
            with suppress(OSError):  # the child may be done already
                self.child.send(fresh)


@contextmanager
def validated_ahead(rows: list, start: int, size: int, validator: RowValidator, *, write: bool) -> Iterator[Ahead]:
    """The batches of ``rows`` from ``start``, each with its validation, validated in a child process."""
    job_end, child_end = socket.socketpair()
    # A worker's SIGTERM/SIGINT (RQ: warm shutdown; its handlers write to Redis) is the job's to handle: the
    # child ignores them, set before any can reach it, and ends when the job stops reading or dies.
    pid, mask = -1, signal.pthread_sigmask(signal.SIG_BLOCK, _SHUTDOWN)
    try:
        pid = os.fork()
    finally:
        if pid != 0:  # the job's process, also if the fork failed
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    if pid == 0:  # the child: it keeps only its end of the socket pair and stdio, so no database or Redis socket
        try:
            for shutdown in _SHUTDOWN:
                signal.signal(shutdown, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            kept = child_end.fileno()
            os.closerange(3, kept)
            os.closerange(kept + 1, os.sysconf("SC_OPEN_MAX"))
            _validate_all(rows, start, size, validator, Connection(child_end.detach()), write)
        finally:
            os._exit(0)  # no atexit hook nor finalizer of the parent's objects runs here
    child_end.close()  # the child holds the only other end: its death reads as end of file
    child = Connection(job_end.detach())
    try:
        yield Ahead(child, rows, start, size, write)
    finally:
        child.close()
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
