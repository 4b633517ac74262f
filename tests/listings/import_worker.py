"""An import worker as the kill test runs it: ``python -m tests.listings.import_worker JOB_ID BATCH``."""

from __future__ import annotations

import sys
import uuid

from app import create_app
from blueprints.listings.bulk.runner import run_import


def main() -> None:
    app = create_app()
    with app.app_context():
        print(run_import(uuid.UUID(sys.argv[1]), batch_size=int(sys.argv[2])), flush=True)


if __name__ == "__main__":
    main()
