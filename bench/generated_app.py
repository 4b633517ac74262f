"""The Bazaar app as bench/api_list.py serves it, with optional platform variants to isolate their cost.

``create()`` is exactly ``app.create_app()``; ``create(pre_ping=False)`` turns SQLAlchemy's per-checkout
connection ping off, to show what that platform setting costs a list request (one round trip).
"""

from __future__ import annotations

from flask import Flask

from app import create_app
from config import Config


def create(pre_ping: bool = True) -> Flask:
    config = Config()
    if not pre_ping:
        config.SQLALCHEMY_ENGINE_OPTIONS = {**config.SQLALCHEMY_ENGINE_OPTIONS, "pool_pre_ping": False}
    return create_app(config)
