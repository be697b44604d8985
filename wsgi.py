"""WSGI entry point: `flask --app wsgi run`, `gunicorn wsgi:app`."""

from journal import create_app

app = create_app()
