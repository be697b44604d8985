"""gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app`. gthread workers on 2 cores."""

import os

bind = os.environ.get("JOURNAL_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("JOURNAL_WORKERS", "2"))
threads = int(os.environ.get("JOURNAL_THREADS", "4"))
# Each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new connections
# across them. With one shared socket, a worker quick to accept can take all the keep-alive
# connections of a proxy or a load tool while the other worker idles.
reuse_port = True
# Never log request bodies; the access log holds paths (no secrets: link secrets live in the
# URL fragment, which browsers never send).
accesslog = os.environ.get("JOURNAL_ACCESS_LOG", "-")


def on_starting(server):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """The start-up self-check: serving under gunicorn is production, so every finding stops."""
    from journal import create_app, selfcheck

    messages = selfcheck.fatal(create_app(), production=True)
    for message in messages:
        server.log.error("Refusing to start: %s", message)
    if messages:
        raise SystemExit(2)
