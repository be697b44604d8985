"""Listed entities (client, aliases, people, contacts) and every spelling they take in text.

English names match as whole words in any case, possessives and quotes included; a name
that is also an ordinary word ("Will", "Hope", "Mark") matches when capitalised, or in
lower case only where the words around it say it is a person. Chinese names match as plain
substrings, with the forms of address built on them (小伟, 老张, 张先生 ...) and their pinyin.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from re import _compiler as _re_compiler  # type: ignore[attr-defined]

from . import lexicon
from .facts import CaseFacts
from .matching import matches_from
from .spans import CONTACT, CUSTOM, LISTED, Span

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Short words a name part must never stand for on its own (pinyin "He", "Ma"; initials).
_NEVER_ALONE = {"he", "she", "we", "me", "an", "so", "do", "go", "be", "it", "in", "on",
                "no", "us", "my", "of", "or", "to", "the", "and", "a", "i", "is", "as", "at",
                "by", "if", "up", "ma", "pa", "mo", "li", "jo", "al", "ed"}
# Around a lower-case word, these say "a person": "told mark", "mark said".
_PERSON_BEFORE = r"(?:told|asked|called|rang|phoned|texted|messaged|saw|met|with|hugged|love|" \
                 r"loves|miss|misses|and|visited|blamed|trust|trusts|married|dating|marry)"
_PERSON_AFTER = r"(?:'s|’s|said|says|told|asked|texted|called|rang|and\s+i|and\s+me|was|is|" \
                r"has|had|wants|wanted|thinks|thought|came|went|left|shouted|cried|laughed)"
# Common short forms; a listed "Thomas" also hides "Tom" and "Tommy".
_DIMINUTIVES = {
    "thomas": ("tom", "tommy"), "william": ("will", "bill", "billy", "liam"),
    "robert": ("rob", "bob", "bobby", "robbie"), "richard": ("rich", "rick", "dick"),
    "james": ("jim", "jimmy", "jamie"), "john": ("johnny", "jack"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza"),
    "margaret": ("maggie", "peggy", "meg"), "katherine": ("kate", "katie", "kath", "kathy"),
    "catherine": ("cath", "cathy", "kate", "katie"),
    "michael": ("mike", "mick", "mikey"), "christopher": ("chris",), "christine": ("chris",),
    "matthew": ("matt",), "daniel": ("dan", "danny"), "joseph": ("joe", "joey"),
    "benjamin": ("ben",), "samuel": ("sam",), "samantha": ("sam", "sammy"),
    "alexander": ("alex", "sandy"), "alexandra": ("alex", "sandy"), "andrew": ("andy", "drew"),
    "anthony": ("tony",), "edward": ("ed", "eddie", "ted"), "nicholas": ("nick",),
    "jennifer": ("jen", "jenny"), "rebecca": ("becky", "becca"), "victoria": ("vicky", "tori"),
    "patricia": ("pat", "trish"), "patrick": ("pat", "paddy"), "deborah": ("debbie", "deb"),
    "susan": ("sue", "susie"), "stephen": ("steve",), "steven": ("steve",),
    "jonathan": ("jon",), "timothy": ("tim",), "gregory": ("greg",), "charles": ("charlie",),
    "charlotte": ("charlie", "lottie"), "frederick": ("fred", "freddie"), "harold": ("harry",),
    "henry": ("harry",), "eleanor": ("ellie", "nell"), "abigail": ("abby", "abi"),
    "jessica": ("jess",), "joshua": ("josh",), "nathaniel": ("nate", "nat"), "oliver": ("ollie",),
    "siobhan": ("shiv",), "seán": ("sean",), "aoife": ("eva",), "dorothy": ("dot",),
}


def _compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """re.compile without re's own process-wide cache of compiled patterns: these patterns
    spell out a case's names, which must not outlive the export that needs them."""
    return _re_compiler.compile(pattern, flags)


def _roman_pattern(text: str) -> str:
    """Whole-word pattern for a Latin-script name; apostrophes and hyphens inside match as-is."""
    parts = [re.escape(p) for p in text.split()]
    return r"\s+".join(parts)


def _pinyin_variants(name: str) -> list[str]:
    """Pinyin spellings of a Chinese name: 'Zhang Wei', 'Wei Zhang', 'Zhangwei', given alone."""
    if len(name) < 2:
        return []
    surname_len = 2 if name.startswith(lexicon.CN_SURNAMES_COMPOUND) else 1
    readings = lexicon.pinyin_syllables(name)
    if len(readings) != len(name):
        return []
    variants: set[str] = set()
    combos = itertools.islice(itertools.product(*[r[:2] for r in readings]), 8)
    for combo in combos:
        surname = "".join(combo[:surname_len])
        given_syllables = combo[surname_len:]
        if not given_syllables:
            continue
        given_joined = "".join(given_syllables)
        given_spaced = " ".join(given_syllables)
        for given in {given_joined, given_spaced, "-".join(given_syllables)}:
            variants.add(f"{surname} {given}")
            variants.add(f"{given} {surname}")
        variants.add(surname + given_joined)
        if len(given_syllables) > 1:
            variants.add(given_joined)
            variants.add(given_spaced)
        elif given_joined.lower() not in _NEVER_ALONE:
            variants.add(given_joined)
    return sorted(variants)


def _chinese_variants(name: str) -> set[str]:
    """Forms of a Chinese name that still point at the person."""
    forms = {name}
    compact = name.replace(" ", "").replace("·", "")
    forms.add(compact)
    surname_len = 2 if compact.startswith(lexicon.CN_SURNAMES_COMPOUND) else 1
    if len(compact) >= 2 and compact[:surname_len] in lexicon.CN_SURNAMES | set(
            lexicon.CN_SURNAMES_COMPOUND):
        surname, given = compact[:surname_len], compact[surname_len:]
        if len(given) >= 2:
            forms.add(given)
        forms.update(f"{prefix}{given[-1]}" for prefix in ("小", "阿"))
        forms.add(given[-1] * 2)
        forms.update(f"{prefix}{surname}" for prefix in lexicon.CN_NAME_PREFIXES)
        forms.update(f"{surname}{suffix}" for suffix in lexicon.CN_NAME_SUFFIXES)
    elif len(compact) >= 2:
        forms.update(f"{prefix}{compact[-1]}" for prefix in ("小", "阿"))
    return {f for f in forms if len(f) >= 2}


def _roman_variants(name: str) -> set[str]:
    parts = [p for p in re.split(r"\s+", name.strip()) if p]
    forms = {" ".join(parts)}
    for part in parts:
        bare = part.strip(".,()\"'")
        if len(bare) >= 2 and bare.lower() not in _NEVER_ALONE and bare.lower() not in \
                lexicon.TITLES:
            forms.add(bare)
            forms.update(d.capitalize() for d in _DIMINUTIVES.get(bare.lower(), ()))
    if len(parts) >= 3:
        forms.add(f"{parts[0]} {parts[-1]}")
    return forms


_NAME_BOUNDARY = "[A-Za-z0-9_@.]"  # no name starts right after one of these


@dataclass
class _Entity:
    key: str
    category: str
    label: str


class KnownEntities:
    """Matchers for one case's listed names and contacts."""

    def __init__(self, facts: CaseFacts) -> None:
        self._entities: dict[str, _Entity] = {}
        self._insensitive: dict[str, str] = {}  # variant (lower) -> key
        self._capitalised: dict[str, str] = {}  # dictionary-word variant -> key
        # Each variant as first written: the patterns are built from it, not from its lower
        # case, which is longer for a few letters ("İ" -> "i̇") and then matched nothing.
        self._written: dict[str, str] = {}
        self._cjk: dict[str, str] = {}
        self._contacts: list[tuple[str, str, str]] = []  # (literal lower, digits, key)
        self._contacts_written: dict[str, str] = {}

        client_names = [facts.client_name, facts.preferred_name, *facts.aliases]
        self._add_entity("client", LISTED, "[Client]", client_names)
        for index, person in enumerate(facts.people):
            self._add_entity(f"person:{index}", LISTED, "", [person.name])
        for index, term in enumerate(facts.extra_terms):
            self._add_entity(f"custom:{index}", CUSTOM, "", [term], exact=True)
        for contact in facts.contacts:
            self._add_contact(contact)
        self._compile()

    def _add_entity(self, key: str, category: str, label: str, names: list[str],
                    exact: bool = False) -> None:
        self._entities[key] = _Entity(key, category, label)
        for name in names:
            name = " ".join((name or "").split())
            if not name:
                continue
            if CJK.search(name):
                for form in _chinese_variants(name) if not exact else {name}:
                    self._cjk.setdefault(form, key)
                if not exact:
                    for form in _pinyin_variants(name.replace(" ", "")):
                        self._add_roman(form, key)
            else:
                for form in _roman_variants(name) if not exact else {name}:
                    self._add_roman(form, key, exact)

    def _add_roman(self, form: str, key: str, exact: bool = False) -> None:
        lower = form.lower()
        self._written.setdefault(lower, form)
        # A term the counsellor typed is hidden in any case, even an ordinary word.
        if not exact and " " not in form and lexicon.is_english_word(form):
            self._capitalised.setdefault(lower, key)
        else:
            self._insensitive.setdefault(lower, key)

    def _add_contact(self, contact: str) -> None:
        contact = contact.strip()
        if not contact:
            return
        key = f"contact:{contact.lower()}"
        digits = re.sub(r"\D", "", contact)
        if "@" in contact:
            label = "[Email]"
        elif len(digits) >= 7:
            label = "[Phone]"
        else:
            label = "[Contact]"
        self._entities[key] = _Entity(key, CONTACT, label)
        self._contacts.append((contact.lower(), digits, key))
        self._contacts_written.setdefault(contact.lower(), contact)

    def _compile(self) -> None:
        def alternation(words: list[str]) -> str:
            return "|".join(_roman_pattern(w) for w in spellings(words))

        def spellings(words: list[str]) -> list[str]:
            # Longest first (by lower case); a variant whose lower case is longer is also
            # looked for in that lower case, as it was before it was looked for as written.
            ordered = sorted(words, key=len, reverse=True)
            return [form for w in ordered for form in dict.fromkeys((self._written[w], w))
                    if form == self._written[w] or len(form) != len(self._written[w])]

        # ASCII boundaries: in Chinese text a name sits between CJK characters (妈妈说Emma不).
        boundary_l, boundary_r = f"(?<!{_NAME_BOUNDARY})", r"(?![A-Za-z0-9_])"
        self._re_insensitive = _compile(
            f"{boundary_l}(?:{alternation(list(self._insensitive))}){boundary_r}",
            re.IGNORECASE) if self._insensitive else None
        self._re_capitalised = _compile(
            f"{boundary_l}(?:{alternation(list(self._capitalised))}){boundary_r}",
            re.IGNORECASE) if self._capitalised else None
        self._re_cjk = _compile("|".join(
            re.escape(w) for w in sorted(self._cjk, key=len, reverse=True))) if self._cjk else None
        self._re_contacts = _compile("|".join(
            re.escape(self._contacts_written[c])
            for c, _d, _k in sorted(self._contacts, key=lambda c: -len(c[0]))),
            re.IGNORECASE) if self._contacts else None
        # Where each of the case-blind patterns can start: see _Starts.
        self._starts_insensitive = _Starts(spellings(list(self._insensitive)), _NAME_BOUNDARY)
        self._starts_capitalised = _Starts(spellings(list(self._capitalised)), _NAME_BOUNDARY)
        self._starts_contacts = _Starts(list(self._contacts_written.values()))

    @staticmethod
    def _matches(pattern: re.Pattern[str], starts: _Starts, text: str, lowered: str | None
                 ) -> Iterator[re.Match[str]]:
        places = starts.find(text, lowered)
        if places is None:
            return pattern.finditer(text)
        return matches_from(pattern, text, places)

    def label(self, key: str) -> _Entity:
        return self._entities[key]

    def find(self, text: str) -> list[Span]:
        spans: list[Span] = []
        lowered = _lowered(text) if self._re_insensitive or self._re_capitalised or \
            self._re_contacts else None
        if self._re_insensitive:
            for m in self._matches(self._re_insensitive, self._starts_insensitive, text,
                                   lowered):
                key = self._variant_key(self._insensitive, m.group())
                spans.append(self._span(m.start(), m.end(), key))
        if self._re_capitalised:
            for m in self._matches(self._re_capitalised, self._starts_capitalised, text,
                                   lowered):
                word = m.group()
                if word[0].isupper() and not _is_auxiliary_use(text, m.start(), m.end()):
                    spans.append(self._span(m.start(), m.end(),
                                            self._variant_key(self._capitalised, word)))
                elif word.islower() and (word not in lexicon.COMMON_NAME_WORDS
                                         or _person_context(text, m.start(), m.end())):
                    spans.append(self._span(m.start(), m.end(),
                                            self._variant_key(self._capitalised, word)))
        if self._re_cjk:
            for m in self._re_cjk.finditer(text):
                spans.append(self._span(m.start(), m.end(), self._cjk[m.group()]))
        if self._re_contacts:
            for m in self._matches(self._re_contacts, self._starts_contacts, text, lowered):
                key = f"contact:{m.group().lower()}"
                if key not in self._entities:  # matched through a letter like "İ"
                    key = next(k for c, _d, k in self._contacts if _compile(
                        re.escape(self._contacts_written[c]), re.IGNORECASE).fullmatch(
                        m.group()))
                spans.append(Span(m.start(), m.end(), CONTACT, key,
                                  self._entities[key].label))
        return spans

    def _variant_key(self, variants: dict[str, str], found: str) -> str:
        """Whose variant `found` is. Its lower case names it, except for a few letters whose
        lower case is not one letter ("İ", "ı"): then the variant that matches it as the
        pattern did."""
        key = variants.get(" ".join(found.lower().split()))
        if key is not None:
            return key
        return next(key for lower, key in variants.items() if _compile(
            _roman_pattern(self._written[lower]), re.IGNORECASE).fullmatch(found))

    def _span(self, start: int, end: int, key: str) -> Span:
        return Span(start, end, self._entities[key].category, key)

    def leaks(self, text: str) -> list[str]:
        """Listed names or variants still present (the export is blocked if any)."""
        return [text[s.start:s.end] for s in self.find(text) if s.category in (LISTED, CUSTOM)]


# Characters that match an ASCII letter ignoring case beyond its own two cases (İ and ı are
# i, ſ is s, the Kelvin sign is k): checked against every character by re itself.
_OTHER_CASES = {"i": "İı", "k": "\u212a", "s": "ſ"}
_WORD_GAP = frozenset(" ")  # _roman_pattern joins a name's words with \s+


def _same_ignoring_case(char: str) -> frozenset[str] | None:
    """Exactly the characters `char` matches under re.IGNORECASE, for an ASCII character
    other than a line break; None for any other."""
    if not char.isascii() or char in "\r\n":
        return None
    return frozenset({char, char.lower(), char.upper(), *_OTHER_CASES.get(char.lower(), "")})


def _chars(chars: frozenset[str]) -> str:
    if chars is _WORD_GAP:
        return r"\s"
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


def _start_finder(written: list[str], not_after: str = "") -> re.Pattern[str] | None:
    """A regex finding every place where one of these names (words joined by a space, as
    _roman_pattern joins them with \\s+) or literals can begin to match ignoring case, not
    after a character in `not_after` (a character class, or ""): where its first two
    characters are. Each match is the one character at such a place, so none is skipped.

    A case-blind alternation is tried at every character of a text; this regex jumps from
    one possible first character to the next, and the alternation is then tried only where
    it finds one: exactly finditer's matches, a few times faster. None when a name does not
    start with two ASCII characters (the alternation is then run as it is)."""
    pairs: dict[frozenset[str], set[frozenset[str]]] = {}
    for literal in written:
        first = _same_ignoring_case(literal[:1])
        second = _WORD_GAP if literal[1:2] == " " else _same_ignoring_case(literal[1:2])
        if first is None or second is None or len(literal) < 2:
            return None
        pairs.setdefault(first, set()).add(second)
    if not pairs:
        return None
    firsts = _chars(frozenset().union(*pairs))
    behind = f"(?<!{not_after}.)" if not_after else ""
    seconds = "|".join(f"(?<={_chars(first)}){_chars(second)}"
                       for first, group in pairs.items() for second in group)
    return _compile(f"{firsts}{behind}(?=(?:{seconds}))")


# Characters other than an ASCII letter's own two cases that match it ignoring case (İ and ı
# are i, ſ is s, the Kelvin sign is k). "İ" is also the one character whose lower case is
# longer than itself.
_ASCII_LOOKALIKES = "İıſ\u212a"


class _Starts:
    """Where a case-blind alternation of names (or literals) can start matching in a text.

    Most texts: where the lower case of a name's first word occurs in the text's lower case
    (str.find, a few microseconds), not right after a character that rules a name out. That
    is every place the alternation could match when the first words are ASCII and the text
    holds none of the few other characters that match an ASCII letter ignoring case.
    Otherwise: _start_finder's regex, or None (run the alternation itself). Either way the
    places are a superset of where matches start, so matches_from finds exactly what
    finditer would."""

    def __init__(self, written: list[str], not_after: str = "") -> None:
        firsts = {w.split(" ", 1)[0].lower() for w in written}
        self._words = (sorted(firsts) if firsts and all(w.isascii() and w for w in firsts)
                       else None)
        # The characters of `not_after` ("[A-Za-z0-9_@.]"), to test one character at a time.
        self._not_after = frozenset(
            c for c in map(chr, range(128)) if not_after and re.fullmatch(not_after, c))
        self._finder = _start_finder(written, not_after)

    def find(self, text: str, lowered: str | None) -> list[int] | None:
        """`lowered` is text.lower() when it has text's length and text holds none of
        _ASCII_LOOKALIKES (else None)."""
        if self._words is not None and lowered is not None:
            places: set[int] = set()
            not_after = self._not_after
            for word in self._words:
                at = lowered.find(word)
                while at >= 0:
                    if not at or text[at - 1] not in not_after:
                        places.add(at)
                    at = lowered.find(word, at + 1)
            return sorted(places)
        if self._finder is None:
            return None
        return [m.start() for m in self._finder.finditer(text)]


def _lowered(text: str) -> str | None:
    """text.lower(), when it lines up with text and nothing in text but ASCII letters' own
    cases matches an ASCII letter ignoring case (see _Starts)."""
    if not text.isascii() and any(map(text.__contains__, _ASCII_LOOKALIKES)):
        return None
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else None


_AUXILIARY_NEXT = re.compile(
    r"\s+(?:you|i|we|he|she|they|it|this|that|there|the|a|an|your|my|our|his|her|their|"
    r"be|not|have|need|probably|also|just)\b", re.IGNORECASE)


def _is_auxiliary_use(text: str, start: int, end: int) -> bool:
    """'Will you come?', 'May I ask': a capitalised word at sentence start used as a word."""
    word = text[start:end].lower()
    if word not in lexicon.COMMON_NAME_WORDS:
        return False
    return bool(_AUXILIARY_NEXT.match(text, end)) and _sentence_start(text, start)


def _sentence_start(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t\"'“‘(":
        i -= 1
    return i < 0 or text[i] in ".!?\n:;•*-–—"


_BEFORE = re.compile(_PERSON_BEFORE + r"\s+$", re.IGNORECASE)
_AFTER = re.compile(r"\s*" + _PERSON_AFTER + r"\b", re.IGNORECASE)


def _person_context(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 20):start]
    return bool(_BEFORE.search(before) or _AFTER.match(text, end)
                or text[end:end + 2] in ("'s", "’s"))
