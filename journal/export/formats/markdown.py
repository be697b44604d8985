"""Markdown: headings and paragraphs; text is escaped so a note cannot inject markup."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

from .blocks import Block

_SPECIAL = re.compile(r"([\\`*_<>|])")


def _escape(text: str) -> str:
    # Labels such as [Client] stay as typed (a bracket alone is not markup); "](" is broken
    # up so a note cannot become a link, and <, >, `, *, _ cannot become HTML or emphasis.
    return _SPECIAL.sub(r"\\\1", text).replace("](", "]\\(")


def _lines(block: Block) -> list[str]:
    text = _escape(block.text)
    if block.kind == "title":
        return [f"# {text}", ""]
    if block.kind == "heading":
        return ["", f"## {text}", ""]
    if block.kind == "subheading":
        return ["", f"### {text}", ""]
    if block.kind == "fact":
        return [f"**{text}**", ""]
    if block.kind == "item":
        return [f"- {text}"]
    return [line if line.strip() else "" for line in text.splitlines()] + [""]


class MarkdownWriter:
    """Writes the document as UTF-8 as it comes, so only the finished bytes are held. The
    result is exactly `"\n".join(lines).rstrip() + "\n"`: the latest line with something
    on it, and the blank lines after it, are held back until the next such line (or the
    end, where the trailing whitespace goes)."""

    def __init__(self) -> None:
        self._out = io.BytesIO()
        self._started = False
        self._held: list[str] = []  # [latest line with text, blank lines after it]
        self._text_seen = False

    def add(self, block: Block) -> None:
        ready: list[str] = []
        for line in _lines(block):
            if line.strip():
                ready += self._held
                self._held = [line]
                self._text_seen = True
            else:
                self._held.append(line)
        if ready:
            self._write(ready)

    def _write(self, lines: list[str]) -> None:
        if self._started:
            self._out.write(b"\n")
        self._out.write("\n".join(lines).encode("utf-8"))
        self._started = True

    def finish(self) -> bytes:
        if self._text_seen:
            self._write([self._held[0].rstrip()])
        self._out.write(b"\n")
        return self._out.getvalue()


def render_markdown(blocks: Iterable[Block]) -> str:
    return markdown_bytes(blocks).decode("utf-8")


def markdown_bytes(blocks: Iterable[Block]) -> bytes:
    writer = MarkdownWriter()
    for block in blocks:
        writer.add(block)
    return writer.finish()
