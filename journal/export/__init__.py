"""Case summaries: the anonymised one for supervision and the client's own identifiable copy.

`anonymiser/` is pure text processing (no Flask, no database); `summary.py` reads a case
through the services; `formats/` writes Markdown, JSON and PDF; `service.py` ties them to
the review step and the audit log.
"""
