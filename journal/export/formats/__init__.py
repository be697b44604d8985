"""Writers for a case summary's data: Markdown, JSON and PDF, all from the same blocks."""

from __future__ import annotations

import json
from typing import Any

from .blocks import blocks
from .markdown import render_markdown
from .pdf import MissingFont, render_pdf

FORMATS = ("md", "json", "pdf")
MIMETYPES = {"md": "text/markdown; charset=utf-8", "json": "application/json",
             "pdf": "application/pdf"}


def render(data: dict[str, Any], fmt: str, pdf_font: str | None = None) -> bytes:
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    if fmt == "md":
        return render_markdown(blocks(data)).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(blocks(data), pdf_font)
    raise ValueError(fmt)


__all__ = ["FORMATS", "MIMETYPES", "MissingFont", "render"]
