"""Markdown: headings and paragraphs; text is escaped so a note cannot inject markup."""

from __future__ import annotations

import re

from .blocks import Block

_SPECIAL = re.compile(r"([\\`*_<>|])")


def _escape(text: str) -> str:
    # Labels such as [Client] stay as typed (a bracket alone is not markup); "](" is broken
    # up so a note cannot become a link, and <, >, `, *, _ cannot become HTML or emphasis.
    return _SPECIAL.sub(r"\\\1", text).replace("](", "]\\(")


def render_markdown(blocks: list[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        text = _escape(block.text)
        if block.kind == "title":
            lines += [f"# {text}", ""]
        elif block.kind == "heading":
            lines += ["", f"## {text}", ""]
        elif block.kind == "subheading":
            lines += ["", f"### {text}", ""]
        elif block.kind == "fact":
            lines += [f"**{text}**", ""]
        elif block.kind == "item":
            lines.append(f"- {text}")
        else:
            lines += [line if line.strip() else "" for line in text.splitlines()] + [""]
    return "\n".join(lines).rstrip() + "\n"
