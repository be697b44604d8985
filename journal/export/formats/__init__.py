"""Writers for a case summary's data: Markdown, JSON and PDF, all from the same blocks."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..document import Part, assemble, parts_of
from .blocks import iter_blocks
from .markdown import MarkdownWriter
from .pdf import MissingFont, PdfWriter

FORMATS = ("md", "json", "pdf")
MIMETYPES = {"md": "text/markdown; charset=utf-8", "json": "application/json",
             "pdf": "application/pdf"}


def render(data: dict[str, Any], fmt: str, pdf_font: str | None = None) -> bytes:
    """The whole document in one format."""
    if fmt == "json":
        return _json(data)
    return render_parts(parts_of(data), fmt, pdf_font)


def render_parts(pieces: Iterable[Part], fmt: str, pdf_font: str | None = None) -> bytes:
    """The document written out piece by piece as `pieces` yields them (see
    document.parts), so a long case is never held whole, only its finished bytes. Every
    piece is taken even when the PDF font is missing (MissingFont is raised at the end), so
    a caller checking the pieces as they pass sees them all."""
    if fmt == "json":
        return _json(assemble(pieces))
    if fmt not in FORMATS:
        raise ValueError(fmt)
    try:
        writer: MarkdownWriter | PdfWriter = (MarkdownWriter() if fmt == "md"
                                              else PdfWriter(pdf_font))
    except MissingFont:
        for _piece in pieces:
            pass
        raise
    for block in iter_blocks(pieces):
        writer.add(block)
    return writer.finish()


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


__all__ = ["FORMATS", "MIMETYPES", "MissingFont", "render", "render_parts"]
