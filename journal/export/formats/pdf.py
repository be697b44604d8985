"""PDF with fpdf2 and a CJK-capable font, so Chinese notes render as Chinese.

fpdf2's multi_cell measures the line again for every character it adds, which takes
seconds for a long case; this module breaks lines itself from cached glyph widths and
places each line with `text()`, about ten times faster for the same output. A document is
written block by block as its blocks come (PdfWriter). The font is parsed once per process
(_add_font) and each line's text mapped to the font subset with str.translate
(_FastEncoding): same glyphs, same widths, a fraction of the time.
"""

from __future__ import annotations

import copy
import functools
import os
import re
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate
from typing import Any

from .blocks import Block

# Looked for in this order; JOURNAL_EXPORT_PDF_FONT (config EXPORT_PDF_FONT) comes first.
FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # Debian fonts-noto-cjk
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),  # fonts-wqy-microhei
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
    ("C:/Windows/Fonts/msyh.ttc", 0),
)
_TOKEN = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff]+|\s+")
_WINDOW = 48  # tokens summed at a time when breaking lines (more than a line holds)
_SIZES = {"title": 16, "heading": 13, "subheading": 11, "fact": 9.5, "item": 10, "text": 10}


class MissingFont(RuntimeError):
    """No font that can show this text is installed."""


def find_font(configured: str | None) -> tuple[str, int]:
    if configured:
        if not os.path.isfile(configured):
            raise MissingFont(configured)
        return configured, 0
    for path, index in FONT_CANDIDATES:
        if os.path.isfile(path):
            return path, index
    raise MissingFont("fonts-noto-cjk")


class _Writer:
    def __init__(self, font: tuple[str, int]) -> None:
        from fpdf import FPDF  # loaded on the first PDF only

        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(18, 18, 18)
        path, index = font
        _add_font(self.pdf, path, index)
        for added in self.pdf.fonts.values():
            if added.is_cff:
                # The CFF subset embedded at the end keeps the whole font's bounding box
                # instead of drawing every glyph it keeps to measure it again (most of the
                # time output() took).
                added.ttfont.recalcBBoxes = False
            _encode_faster(added)
        self.pdf.add_page()
        self.y = self.pdf.t_margin
        self._size = 0.0
        # Widths by font size: of each character, and of each word (this document only).
        self._char_widths: dict[float, dict[str, float]] = {}
        self._token_widths: dict[float, dict[str, float]] = {}

    def _width(self, size: float, token: str) -> float:
        tokens = self._token_widths.setdefault(size, {})
        total = tokens.get(token)
        if total is None:
            chars = self._char_widths.setdefault(size, {})
            total = 0.0
            for char in token:
                width = chars.get(char)
                if width is None:
                    width = chars[char] = self.pdf.get_string_width(char)
                total += width
            tokens[token] = total
        return total

    def _lines(self, text: str, size: float, width: float) -> list[str]:
        """Greedy line breaking: as many tokens as fit, a space at a break dropped, a word
        wider than the line cut. Sums are taken token by token as a running total would (so
        the same floats decide the same breaks), a line at a time, in C."""
        known = self._token_widths.setdefault(size, {})
        lines: list[str] = []
        for paragraph in text.splitlines() or [""]:
            tokens = _TOKEN.findall(paragraph.replace("\t", "    "))
            widths = list(map(known.get, tokens))
            if None in widths:
                widths = [self._width(size, token) if token_width is None else token_width
                          for token, token_width in zip(tokens, widths, strict=True)]
            current: list[str] = []
            used = 0.0
            position, count = 0, len(tokens)
            while position < count:
                window = widths[position:position + _WINDOW]
                totals = list(accumulate(window, initial=used))[1:]
                fit = bisect_right(totals, width)
                if fit:
                    current += tokens[position:position + fit]
                    used = totals[fit - 1]
                    position += fit
                    if fit == len(window):
                        continue
                token, token_width = tokens[position], widths[position]
                if current:  # it does not fit: the line ends before it
                    lines.append("".join(current).rstrip())
                    current, used = [], 0.0
                    if token.isspace():
                        position += 1
                    continue
                while token_width > width and len(token) > 1:  # a very long word
                    cut = max(1, int(len(token) * width / token_width))
                    lines.append(token[:cut])
                    token = token[cut:]
                    token_width = self._width(size, token)
                current.append(token)
                used += token_width
                position += 1
            lines.append("".join(current).rstrip())
        return lines

    def block(self, block: Block) -> None:
        size = _SIZES[block.kind]
        if size != self._size:
            self.pdf.set_font("body", size=size)
            self._size = size
        indent = 5 if block.kind == "item" else 0
        gap = {"title": 4, "heading": 5, "subheading": 3}.get(block.kind, 0.8)
        self.y += gap
        line_height = size * 0.5
        text = ("• " + block.text) if block.kind == "item" else block.text
        for line in self._lines(text, size, self.pdf.epw - indent):
            if self.y + line_height > self.pdf.h - self.pdf.b_margin:
                self.pdf.add_page()
                self.y = self.pdf.t_margin
            self.y += line_height
            if line:
                self.pdf.text(self.pdf.l_margin + indent, self.y, line)
        self.y += 1.2 if block.kind in ("text", "item") else 0.6


# fpdf2's TTFFont as _add_font knows it; any other layout is left to add_font.
_TTF_SLOTS = ("i", "type", "name", "desc", "glyph_ids", "_hbfont", "sp", "ss", "up", "ut", "cw",
              "ttffile", "fontkey", "emphasis", "scale", "subset", "cmap", "ttfont",
              "missing_glyphs", "biggest_size_pt", "color_font", "unicode_range",
              "palette_index", "is_compressed", "is_cff", "is_cid_keyed", "is_symbol",
              "cff_ros", "collection_font_number")


def _add_font(pdf: Any, path: str, index: int) -> None:
    """pdf.add_font("body", …), with the font read once per process instead of once per
    document: fpdf2 parses a CJK font's character map, widths and glyph names (~0.4 s) on
    every add_font. The parsed font (metrics only, no text) is kept as a template; each
    document gets a copy with its own widths table, descriptor, glyph subset and a freshly
    opened font file to cut that subset from (subsetting changes the font it is given).
    Any fpdf2 whose font object differs from the one this was written for, or a font this
    does not cover, goes through add_font as before."""
    from fontTools import ttLib
    from fpdf.fonts import SubsetMap

    stat = os.stat(path)
    cached = _font_template(path, index, stat.st_mtime_ns, stat.st_size)
    if cached is None:
        pdf.add_font("body", fname=path, collection_font_number=index)
        return
    template, cmap, hmtx = cached
    font = copy.copy(template)
    font.i = len(pdf.fonts) + 1
    font.ttfont = ttLib.TTFont(path, recalcTimestamp=False, fontNumber=index, lazy=True)
    # The two big tables the subsetter reads again, already parsed: copies it may change.
    font.ttfont.tables["cmap"] = _cmap_copy(cmap)
    font.ttfont.tables["hmtx"] = _hmtx_copy(hmtx)
    font.cw = template.cw.copy()
    font.desc = copy.copy(template.desc)  # output() gives it this document's object id
    font.subset = SubsetMap(font)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    pdf.fonts["body"] = font
    if font.is_cff and font.is_cid_keyed:
        pdf.pdf_version = max(pdf.pdf_version, "1.6")  # as add_font does


def _cmap_copy(table: Any) -> Any:
    """A copy of a parsed cmap table that subsetting can change without touching `table`
    (it replaces the table's list and each subtable's mappings)."""
    copied = copy.copy(table)
    copied.tables = []
    for subtable in table.tables:
        sub = copy.copy(subtable)
        if hasattr(subtable, "uvsDict"):
            sub.uvsDict = {key: list(value) for key, value in subtable.uvsDict.items()}
        if hasattr(subtable, "cmap"):
            sub.cmap = dict(subtable.cmap)
        copied.tables.append(sub)
    return copied


def _hmtx_copy(table: Any) -> Any:
    copied = copy.copy(table)
    copied.metrics = dict(table.metrics)
    return copied


@functools.lru_cache(maxsize=4)
def _font_template(path: str, index: int, _mtime: int, _size: int) -> Any:
    """The font as add_font parses it, with its cmap and hmtx tables, for _add_font to copy
    (None: use add_font). Keyed by the file's modification time and size too, so a changed
    file is read again."""
    from fpdf import FPDF
    from fpdf.fonts import TTFFont

    if getattr(TTFFont, "__slots__", None) != _TTF_SLOTS:
        return None
    pdf = FPDF()
    pdf.add_font("body", fname=path, collection_font_number=index)
    template = pdf.fonts["body"]
    if type(template) is not TTFFont or template.color_font or template.is_compressed \
            or "glyf" in template.ttfont:  # a TrueType font may get a glyph added: not copied
        return None
    cmap, hmtx = template.ttfont["cmap"], template.ttfont["hmtx"]
    for subtable in cmap.tables:
        subtable.ensureDecompiled()  # nothing left to read from this file later
    template.ttfont.close()
    template.ttfont = None  # each copy opens its own
    return template, cmap, hmtx


def _encode_faster(font: Any) -> None:
    """Give fpdf2's TrueType font a quicker encode_text (see _FastEncoding)."""
    from fpdf.fonts import TTFFont

    if type(font) is TTFFont and not font.is_symbol and not font.color_font:
        font.__class__ = _fast_encoding_class()


@functools.cache
def _fast_encoding_class() -> type:
    from fpdf.fonts import TTFFont

    class _FastEncoding(TTFFont):
        """fpdf2's TTFFont.encode_text maps a line character by character in Python (most
        of the time text() takes). This maps each character once per document, in the same
        order (so the subset's codes come out the same), and the line with str.translate;
        the result is the same string. tests/test_export.py compares the two."""

        __slots__ = ()

        def encode_text(self, text: str) -> str:
            subset = self.subset
            state = subset.__dict__.get("_journal_codes")
            if state is None:
                state = subset.__dict__["_journal_codes"] = ({}, set())
            codes, seen = state
            if not seen.issuperset(text):
                for char in text:  # new characters, first come first mapped, as fpdf2 does
                    if char not in seen:
                        mapped = subset.pick(ord(char))
                        codes[ord(char)] = chr(mapped) if mapped is not None else None
                        seen.add(char)
            return f"({self.escape_text(text.translate(codes))}) Tj"

    return _FastEncoding


class PdfWriter:
    """Lays the document out block by block as the blocks come."""

    def __init__(self, font_path: str | None = None) -> None:
        self._writer = _Writer(find_font(font_path))
        self._titled = False

    def add(self, block: Block) -> None:
        if not self._titled:
            self._title(block.text)
        self._writer.block(block)

    def _title(self, title: str) -> None:
        self._writer.pdf.set_title(title)
        self._writer.pdf.set_creator("Counselling Journal")
        self._titled = True

    def finish(self) -> bytes:
        if not self._titled:
            self._title("")
        return bytes(self._writer.pdf.output())


def render_pdf(blocks: Iterable[Block], font_path: str | None = None) -> bytes:
    writer = PdfWriter(font_path)
    for block in blocks:
        writer.add(block)
    return writer.finish()
