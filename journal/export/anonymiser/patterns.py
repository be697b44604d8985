"""Structured identifiers, found by shape and confirmed by checksum where one exists.

Emails, URLs, handles and WeChat ids; phone numbers (libphonenumber's rules for the UK, US,
Australia, Ireland, India and mainland China, inside running text); NHS numbers (mod 11),
US social security numbers, Chinese resident ids (ISO 7064 MOD 11-2), bank cards (Luhn);
postcodes, zip codes and Eircodes; street addresses in English and 省市区路号 forms. Any
long run of digits left after that is replaced too: a number nobody recognised is still a
number that can identify.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .spans import STRUCTURED, Span

PHONE_REGIONS = ("GB", "US", "AU", "IE", "IN", "CN")

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'，。）)]+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|co\.uk|org\.uk|ac\.uk|gov\.uk|nhs\.uk|com\.au|"
    r"org\.au|ie|in|co\.in|cn|com\.cn|io|me|info|biz)(?:/[^\s<>\"'，。）)]*)?\b",
    re.IGNORECASE | re.ASCII)
HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,29})", re.ASCII)
WECHAT = re.compile(
    r"(?:微信号?|WeChat(?:\s*ID)?|wechat(?:\s*id)?|WX|wx|QQ号?|qq)\s*(?:[:：是为]|is)?\s*"
    r"(?P<id>[A-Za-z][A-Za-z0-9_-]{4,19}|\d{5,12})")
WXID = re.compile(r"\bwxid_[A-Za-z0-9]{4,}\b", re.ASCII)
# UK postcode (full), Irish Eircode, US "ST 12345(-6789)", Australian "NSW 2000".
UK_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?)"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE | re.ASCII)
UK_OUTWARD = re.compile(r"\b[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-Z]?\b(?= area| district)", re.ASCII)
EIRCODE = re.compile(r"\b(?:[AC-FHKNPRTV-Y]\d{2}|D6W) ?[0-9AC-FHKNPRTV-Y]{4}\b",
                     re.IGNORECASE | re.ASCII)
US_ZIP = re.compile(r"\b(?:[A-Z]{2},?\s+)(\d{5}(?:-\d{4})?)\b", re.ASCII)
ZIP_WORD = re.compile(r"\b(?:zip(?:\s*code)?|postcode|post\s*code|pin\s*code|PIN|邮编)"
                      r"\s*[:：]?\s*(\d{4,6}(?:-\d{4})?)", re.IGNORECASE)
AU_POSTCODE = re.compile(r"\b(?:NSW|VIC|QLD|WA|SA|TAS|ACT|NT)\s+(\d{4})\b", re.ASCII)
_STREET_TYPES = (r"Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Cl|Crescent|Cres|Way|"
                 r"Place|Pl|Court|Ct|Terrace|Tce|Grove|Gardens|Gdns|Boulevard|Blvd|Parade|Pde|"
                 r"Highway|Hwy|Square|Sq|Row|Mews|Walk|Hill|Rise|View|Park|Green|Circuit|Cct|"
                 r"Marg|Nagar|Colony|Chowk|Bagh|Vihar|Enclave|Sector")
STREET = re.compile(
    r"(?:\b(?:Flat|Apt|Apartment|Unit|Suite|House)\s+\w{1,5},?\s+)?"
    r"\b\d{1,5}[A-Za-z]?(?:/\d{1,5})?,?\s+(?:(?:[A-Z][\w'’-]+|\d{1,3}(?:st|nd|rd|th)|[NS][EW]"
    r"|[NSEW])\s+){1,3}(?:" + _STREET_TYPES + r"|Wall|Quay|Wharf|Embankment|Yard|Broadway"
    r")\b\.?(?:,?\s+(?:Apt|Apartment|Unit|Suite|Flat|#)\.?\s*\w{1,5})?"
    r"(?:,?\s+(?:[A-Z][a-z]+\s?){1,2}(?=[,.\s]))?")
IN_HOUSE = re.compile(r"\b(?:H\.\s?No\.?|House\s+No\.?|Plot\s+No\.?|Door\s+No\.?|Flat\s+No\.?)"
                      r"\s*[\w/-]+(?:,\s*(?:Road|Street|Lane|Block|Sector|Phase)\s+No\.?\s*\w+)?")
PAN = re.compile(r"\b[A-Z]{5}\d{4}[A-Z]\b", re.ASCII)
UPI = re.compile(r"(?<![\w.@])[A-Za-z0-9][\w.-]{1,40}@[a-z]{2,16}\b(?!\.)", re.ASCII)
UNDERSCORE_ID = re.compile(r"(?<![\w@])[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+", re.ASCII)
NAMED_STREET = re.compile(r"\b(?:[A-Z][\w'’-]+\s+){1,2}(?:Road|Street|Avenue|Lane|Drive|Close|"
                          r"Crescent|Terrace|Grove|Gardens|Boulevard|Parade|Mews|Marg|Nagar)\b")
_CN_NOT_FUNCTION = (r"[^\s\d，。、；：！？“”（）《》"
                    r"的了在是住到去从于和与跟我你他她它们也都就还说家里]")
CN_ADDRESS = re.compile(
    rf"(?:{_CN_NOT_FUNCTION}{{1,6}}?(?:省|自治区))?"
    rf"(?:{_CN_NOT_FUNCTION}{{1,6}}?市)?"
    rf"(?:{_CN_NOT_FUNCTION}{{1,6}}?(?:区|县|镇|乡))?"
    rf"(?:{_CN_NOT_FUNCTION}{{1,8}}?(?:路|街|大道|道|巷|弄|胡同|里))"
    r"(?:\d+|[一二三四五六七八九十百]+)(?:号|弄)"
    r"(?:院?\d+(?:号楼|栋|幢|座))?(?:\d+单元)?(?:\d+(?:室|号|楼))?")
CN_COMMUNITY = re.compile(rf"{_CN_NOT_FUNCTION}{{2,8}}(?:小区|花园|公寓|新村|家园|苑)"
                          r"(?:\d+(?:号楼|栋|幢|座))?(?:\d+单元)?(?:\d+室)?")
# Digits with optional separators: the net for numbers nobody recognised (dates excluded
# before this runs); 6+ digits.
DIGIT_RUN = re.compile(r"(?<![\w.])\+?\(?\d[\d \t().\-/]{4,}\d(?![\w])", re.ASCII)
NUMBER_LIKE = re.compile(r"(?<![\w])(?:\+?\(?\d[\d \t().\-]{5,}\d|\d{6,}[\dXx]?)(?![\w])",
                         re.ASCII)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _span(m: re.Match[str], label: str, group: int | str = 0) -> Span:
    start, end = m.span(group)
    return Span(start, end, STRUCTURED, f"{label}:{_digits(m.group(group)) or m.group(group)}",
                label)


def _checked_numbers(text: str) -> Iterator[Span]:
    from stdnum import luhn  # heavy-ish: loaded on the first export
    from stdnum.cn import ric
    from stdnum.us import ssn

    for m in NUMBER_LIKE.finditer(text):
        raw = m.group()
        digits = _digits(raw)
        compact = re.sub(r"[\s-]", "", raw)
        if len(compact) == 18 and ric.is_valid(compact.upper()):
            yield _span(m, "[ID number]")
        elif len(digits) == 10 and _nhs_valid(digits) and not raw.startswith(("+", "0")):
            yield _span(m, "[NHS number]")
        elif 13 <= len(digits) <= 19 and luhn.is_valid(digits) and not raw.startswith("+"):
            yield _span(m, "[Card number]")
        elif len(digits) == 9 and re.fullmatch(r"\d{3}-\d{2}-\d{4}", raw) and ssn.is_valid(
                digits):
            yield _span(m, "[SSN]")
    for m in re.finditer(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])", text, re.ASCII):
        if ssn.is_valid(_digits(m.group())):
            yield _span(m, "[SSN]")


def _nhs_valid(digits: str) -> bool:
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _phones(text: str) -> Iterator[Span]:
    import phonenumbers  # heavy: loaded on the first export

    for candidate in DIGIT_RUN.finditer(text):
        if len(_digits(candidate.group())) < 7:
            continue
        # Match on a window around the digits only: libphonenumber is slow on long texts.
        lo = max(0, candidate.start() - 4)
        window = text[lo:candidate.end() + 4]
        for region in PHONE_REGIONS:
            found = False
            for match in phonenumbers.PhoneNumberMatcher(window, region,
                                                         phonenumbers.Leniency.VALID):
                start, end = lo + match.start, lo + match.end
                yield Span(start, end, STRUCTURED, f"[Phone]:{_digits(match.raw_string)}",
                           "[Phone]")
                found = True
            if found:
                break


def find_structured(text: str) -> list[Span]:
    """Every structured identifier in `text` (overlaps are resolved by the caller)."""
    spans: list[Span] = []
    spans += [_span(m, "[Email]") for m in EMAIL.finditer(text)]
    spans += [_span(m, "[URL]") for m in URL.finditer(text) if "@" not in m.group()]
    spans += [_span(m, "[Handle]") for m in HANDLE.finditer(text)]
    spans += [_span(m, "[WeChat ID]", "id") for m in WECHAT.finditer(text)]
    spans += [_span(m, "[WeChat ID]") for m in WXID.finditer(text)]
    spans += [_span(m, "[Postcode]") for m in UK_POSTCODE.finditer(text)
              if any(c.isdigit() for c in m.group())]
    spans += [_span(m, "[Postcode]") for m in UK_OUTWARD.finditer(text)]
    spans += [_span(m, "[Postcode]") for m in EIRCODE.finditer(text)
              if _looks_like_eircode(m.group())]
    spans += [_span(m, "[Postcode]", 1) for m in US_ZIP.finditer(text)]
    spans += [_span(m, "[Postcode]", 1) for m in ZIP_WORD.finditer(text)]
    spans += [_span(m, "[Postcode]", 1) for m in AU_POSTCODE.finditer(text)]
    spans += [_span(m, "[Address]") for m in STREET.finditer(text)]
    spans += [_span(m, "[Address]") for m in NAMED_STREET.finditer(text)]
    spans += [_span(m, "[Address]") for m in IN_HOUSE.finditer(text)]
    spans += [_span(m, "[ID number]") for m in PAN.finditer(text)]
    spans += [_span(m, "[Payment ID]") for m in UPI.finditer(text)]
    spans += [_span(m, "[Handle]") for m in UNDERSCORE_ID.finditer(text)]
    # The Chinese address patterns are slow to try at every position: only where they can end.
    if "号" in text or "弄" in text:
        spans += [_span(m, "[Address]") for m in CN_ADDRESS.finditer(text)]
    if any(mark in text for mark in ("小区", "花园", "公寓", "新村", "家园", "苑")):
        spans += [_span(m, "[Address]") for m in CN_COMMUNITY.finditer(text)]
    spans += list(_checked_numbers(text))
    spans += list(_phones(text))
    return spans


def _looks_like_eircode(code: str) -> bool:
    compact = code.replace(" ", "")
    # An Eircode mixes letters and digits in its last four; "D04 2026" is not one.
    return any(c.isalpha() for c in compact[3:]) and any(c.isdigit() for c in compact[3:])


def leftover_numbers(text: str) -> list[Span]:
    """Digit runs of six or more digits: replaced as numbers when nothing else claimed them."""
    spans = []
    for m in DIGIT_RUN.finditer(text):
        if len(_digits(m.group())) >= 6:
            spans.append(_span(m, "[Number]"))
    for m in re.finditer(r"(?<![\w])\d{6,}(?![\d])", text, re.ASCII):
        spans.append(_span(m, "[Number]"))
    return spans
