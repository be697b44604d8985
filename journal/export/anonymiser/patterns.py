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

from .matching import Digits, matches_from
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
SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])", re.ASCII)
LONG_NUMBER = re.compile(r"(?<![\w])\d{6,}(?![\d])", re.ASCII)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _span(m: re.Match[str], label: str, group: int | str = 0) -> Span:
    start, end = m.span(group)
    return Span(start, end, STRUCTURED, f"{label}:{_digits(m.group(group)) or m.group(group)}",
                label)


def _checked_numbers(text: str, number_starts: list[int]) -> Iterator[Span]:
    from stdnum import luhn  # heavy-ish: loaded on the first export
    from stdnum.cn import ric
    from stdnum.us import ssn

    for m in matches_from(NUMBER_LIKE, text, number_starts):
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
    for m in matches_from(SSN, text, number_starts):
        if ssn.is_valid(_digits(m.group())):
            yield _span(m, "[SSN]")


def _nhs_valid(digits: str) -> bool:
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _phones(text: str, number_starts: list[int]) -> Iterator[Span]:
    import phonenumbers  # heavy: loaded on the first export

    for candidate in matches_from(DIGIT_RUN, text, number_starts):
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


# Cheap tests that say a pattern cannot match, so it is not run: each pattern's every match
# contains what its test looks for (a digit, "@", "_", a keyword), so skipping it when the
# test fails finds exactly the same spans, only sooner. Patterns that start at a run of
# digits, a fixed few characters before one, or at one of a few words, are tried only there
# (matching.py). What each group of patterns needs to find anything, looked for in one pass
# (a regex of literals, so the scan jumps from one possible first character to the next):
# - at: "@", in every email, handle and payment id;
# - url: "://", or "www." in any case, or a dot before an ASCII letter (the top-level
#   domain); only the dot is consumed, so no other hint hides behind it;
# - wechat: WECHAT's first words; house: "No", in every IN_HOUSE match;
# - named: NAMED_STREET's street words; underscore: "_" (UNDERSCORE_ID; "wxid_" too);
# - cn: 号 or 弄, where a CN_ADDRESS ends; community: CN_COMMUNITY's words.
# No hint can start inside another family's hint, so every family present is seen.
_HINT_WORDS = {
    "at": ("@",), "underscore": ("_",), "url": ("://",),
    "wechat": ("微信", "WeChat", "wechat", "WX", "wx", "QQ", "qq"),
    "named": ("Road", "Street", "Avenue", "Lane", "Drive", "Close", "Crescent", "Terrace",
              "Grove", "Gardens", "Boulevard", "Parade", "Mews", "Marg", "Nagar"),
    "house": ("No",), "cn": ("号", "弄"),
    "community": ("小区", "花园", "公寓", "新村", "家园", "苑"),
}
_HINT_FAMILY = {word: family for family, words in _HINT_WORDS.items() for word in words}
_HINT_FAMILY["."] = "url"
# Every alternative starts with a literal character, so the regex engine skips ahead to the
# next possible one instead of trying the whole alternation at every character.
_HINTS = re.compile("|".join(re.escape(word) for word in _HINT_FAMILY if word != ".")
                    + r"|\.(?:(?=[A-Za-z])|(?<=[wW]{3}\.))")
_FLAT_WORDS = ("Flat", "Apt", "Apartment", "Unit", "Suite", "House")  # STREET's first words
_HOUSE_WORDS = ("H.", "House", "Plot", "Door", "Flat")  # IN_HOUSE's first words
_AU_STATES = ("NSW", "VIC", "QLD", "WA", "SA", "TAS", "ACT", "NT")  # AU_POSTCODE's first words


_CAPITAL = re.compile("[A-Z]")
# The last character of each of ZIP_WORD's words, in either case ("zip", "…code", "pin", "PIN",
# "邮编"); none of p, e, n has another letter that matches it ignoring case.
_ZIP_WORD_ENDS = frozenset("pPeEnN编")


def _zip_word_possible(text: str, starts: list[int]) -> bool:
    """Whether some run of digits has, just before it (past spaces and one colon), the end of
    one of ZIP_WORD's words: without one, ZIP_WORD cannot match."""
    for start in starts:
        i = start - 1
        while i >= 0 and text[i].isspace():
            i -= 1
        if i >= 0 and text[i] in ":：":
            i -= 1
            while i >= 0 and text[i].isspace():
                i -= 1
        if i >= 0 and text[i] in _ZIP_WORD_ENDS:
            return True
    return False


def _word_starts(text: str, words: tuple[str, ...]) -> list[int]:
    starts = []
    for word in words:
        at = text.find(word)
        while at >= 0:
            starts.append(at)
            at = text.find(word, at + 1)
    return starts


def find_structured(text: str, digits: Digits | None = None) -> list[Span]:
    """Every structured identifier in `text` (overlaps are resolved by the caller).
    `digits` is Digits(text), when the caller has it already."""
    spans: list[Span] = []
    hints = {_HINT_FAMILY[word] for word in _HINTS.findall(text)}
    digits = digits or Digits(text)
    starts, longest = digits.ascii, digits.ascii_longest
    if "at" in hints:
        spans += [_span(m, "[Email]") for m in EMAIL.finditer(text)]
    if "url" in hints:
        spans += [_span(m, "[URL]") for m in URL.finditer(text) if "@" not in m.group()]
    if "at" in hints:
        spans += [_span(m, "[Handle]") for m in HANDLE.finditer(text)]
    if "wechat" in hints:
        spans += [_span(m, "[WeChat ID]", "id") for m in WECHAT.finditer(text)]
    if "underscore" in hints and "wxid_" in text:
        spans += [_span(m, "[WeChat ID]") for m in WXID.finditer(text)]
    if starts:
        # The first digit of a postcode follows one to four letters (or "GIR ").
        spans += [_span(m, "[Postcode]")
                  for m in matches_from(UK_POSTCODE, text, digits.before(1, 2, 3, 4))
                  if any(c.isdigit() for c in m.group())]
        spans += [_span(m, "[Postcode]")
                  for m in matches_from(UK_OUTWARD, text, digits.before(1, 2))]
        spans += [_span(m, "[Postcode]") for m in matches_from(EIRCODE, text, digits.before(1))
                  if _looks_like_eircode(m.group())]
        if longest >= 5:
            spans += [_span(m, "[Postcode]", 1) for m in US_ZIP.finditer(text)]
    if digits.unicode:
        if digits.unicode_longest >= 4 and _zip_word_possible(text, digits.unicode):
            spans += [_span(m, "[Postcode]", 1) for m in ZIP_WORD.finditer(text)]
        if longest >= 4:
            spans += [_span(m, "[Postcode]", 1) for m in matches_from(
                AU_POSTCODE, text, sorted(_word_starts(text, _AU_STATES)))]
        street_starts = sorted({*digits.unicode, *_word_starts(text, _FLAT_WORDS)})
        spans += [_span(m, "[Address]") for m in matches_from(STREET, text, street_starts)]
    if "named" in hints:
        # A named street starts at a capital letter (A-Z): only tried there.
        spans += [_span(m, "[Address]") for m in matches_from(
            NAMED_STREET, text, [m.start() for m in _CAPITAL.finditer(text)])]
    if "house" in hints:
        spans += [_span(m, "[Address]") for m in matches_from(
            IN_HOUSE, text, sorted(_word_starts(text, _HOUSE_WORDS)))]
    if longest >= 4:
        spans += [_span(m, "[ID number]") for m in matches_from(PAN, text, digits.before(5))]
    if "at" in hints:
        spans += [_span(m, "[Payment ID]") for m in UPI.finditer(text)]
    if "underscore" in hints:
        spans += [_span(m, "[Handle]") for m in UNDERSCORE_ID.finditer(text)]
    # The Chinese address patterns are slow to try at every position: only where they can end.
    if "cn" in hints:
        spans += [_span(m, "[Address]") for m in CN_ADDRESS.finditer(text)]
    if "community" in hints:
        spans += [_span(m, "[Address]") for m in CN_COMMUNITY.finditer(text)]
    if starts:
        # Numbers start at their first digit, or at "+" or "(" just before it.
        number_starts = digits.before(0, 1, 2)
        spans += list(_checked_numbers(text, number_starts))
        spans += list(_phones(text, number_starts))
    return spans


def _looks_like_eircode(code: str) -> bool:
    compact = code.replace(" ", "")
    # An Eircode mixes letters and digits in its last four; "D04 2026" is not one.
    return any(c.isalpha() for c in compact[3:]) and any(c.isdigit() for c in compact[3:])


def leftover_numbers(text: str, digits: Digits | None = None) -> list[Span]:
    """Digit runs of six or more digits: replaced as numbers when nothing else claimed them."""
    spans: list[Span] = []
    digits = digits or Digits(text)
    starts = digits.ascii
    if not starts:
        return spans
    for m in matches_from(DIGIT_RUN, text, digits.before(0, 1, 2)):
        if len(_digits(m.group())) >= 6:
            spans.append(_span(m, "[Number]"))
    for m in matches_from(LONG_NUMBER, text, starts):
        spans.append(_span(m, "[Number]"))
    return spans
