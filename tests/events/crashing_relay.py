"""A relay that SIGKILLs itself after enqueueing its jobs and before marking the rows dispatched.

Run as ``python -m tests.events.crashing_relay`` by test_relay.py: the crash window of the brief.
"""

from __future__ import annotations

import os
import signal

from app import create_app
from app.events.relay import Relay


def main() -> None:
    app = create_app()

    def die(job_ids: list[str]) -> None:
        print(" ".join(job_ids), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    Relay(app, after_enqueue=die).dispatch_outbox()
    raise SystemExit("the relay found nothing to dispatch")


if __name__ == "__main__":
    main()
