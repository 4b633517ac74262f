"""``bazaar relay`` as the tests run it: prints "ready" once it handles SIGTERM, then each job id it sends.

Run as ``python -m tests.events.relay_process``.
"""

from __future__ import annotations

import signal

from app import create_app
from app.events.relay import Relay


def main() -> None:
    app = create_app()
    relay = Relay(app, after_enqueue=lambda job_ids: print(*job_ids, flush=True))
    signal.signal(signal.SIGTERM, relay.stop)
    print("ready", flush=True)
    relay.run()


if __name__ == "__main__":
    main()
