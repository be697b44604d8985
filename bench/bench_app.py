"""What gunicorn serves for bench/http.py: the app exactly as wsgi.py builds it (configuration
from JOURNAL_* variables), plus the benchmark's bare route."""

from bench.scenarios import register_bare_route
from journal import create_app

app = create_app()
register_bare_route(app)
