"""WSGI entry point: ``gunicorn -k gthread -w 1 --threads 100 wsgi:app`` (Socket.IO needs threads)."""

from app import create_app

app = create_app()
