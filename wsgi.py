"""WSGI entry point: ``gunicorn --config deploy/gunicorn.conf.py wsgi:app`` (Socket.IO needs threads)."""

import gc

from app import create_app

app = create_app()
# The heap built at import (models, schemas, admin views: ~360,000 objects) lives as long as the
# process: frozen, full collections stop walking it again and again under load.
gc.freeze()
