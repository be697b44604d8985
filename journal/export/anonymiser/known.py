"""Listed entities (client, aliases, people, contacts) and every spelling they take in text.

English names match as whole words in any case, possessives and quotes included; a name
that is also an ordinary word ("Will", "Hope", "Mark") matches when capitalised, or in
lower case only where the words around it say it is a person. Chinese names match as plain
substrings, with the forms of address built on them (小伟, 老张, 张先生 ...) and their pinyin.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from . import lexicon
from .facts import CaseFacts
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
        self._cjk: dict[str, str] = {}
        self._contacts: list[tuple[str, str, str]] = []  # (literal lower, digits, key)

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

    def _compile(self) -> None:
        def alternation(words: list[str]) -> str:
            return "|".join(_roman_pattern(w) for w in sorted(words, key=len, reverse=True))

        # ASCII boundaries: in Chinese text a name sits between CJK characters (妈妈说Emma不).
        boundary_l, boundary_r = r"(?<![A-Za-z0-9_@.])", r"(?![A-Za-z0-9_])"
        self._re_insensitive = re.compile(
            f"{boundary_l}(?:{alternation(list(self._insensitive))}){boundary_r}",
            re.IGNORECASE) if self._insensitive else None
        self._re_capitalised = re.compile(
            f"{boundary_l}(?:{alternation(list(self._capitalised))}){boundary_r}",
            re.IGNORECASE) if self._capitalised else None
        self._re_cjk = re.compile("|".join(
            re.escape(w) for w in sorted(self._cjk, key=len, reverse=True))) if self._cjk else None
        self._re_contacts = re.compile("|".join(
            re.escape(c) for c, _d, _k in sorted(self._contacts, key=lambda c: -len(c[0]))),
            re.IGNORECASE) if self._contacts else None

    def label(self, key: str) -> _Entity:
        return self._entities[key]

    def find(self, text: str) -> list[Span]:
        spans: list[Span] = []
        if self._re_insensitive:
            for m in self._re_insensitive.finditer(text):
                key = self._insensitive[" ".join(m.group().lower().split())]
                spans.append(self._span(m.start(), m.end(), key))
        if self._re_capitalised:
            for m in self._re_capitalised.finditer(text):
                word = m.group()
                if word[0].isupper() and not _is_auxiliary_use(text, m.start(), m.end()):
                    spans.append(self._span(m.start(), m.end(), self._capitalised[word.lower()]))
                elif word.islower() and (word not in lexicon.COMMON_NAME_WORDS
                                         or _person_context(text, m.start(), m.end())):
                    spans.append(self._span(m.start(), m.end(), self._capitalised[word]))
        if self._re_cjk:
            for m in self._re_cjk.finditer(text):
                spans.append(self._span(m.start(), m.end(), self._cjk[m.group()]))
        if self._re_contacts:
            for m in self._re_contacts.finditer(text):
                key = f"contact:{m.group().lower()}"
                spans.append(Span(m.start(), m.end(), CONTACT, key,
                                  self._entities[key].label))
        return spans

    def _span(self, start: int, end: int, key: str) -> Span:
        return Span(start, end, self._entities[key].category, key)

    def leaks(self, text: str) -> list[str]:
        """Listed names or variants still present (the export is blocked if any)."""
        return [text[s.start:s.end] for s in self.find(text) if s.category in (LISTED, CUSTOM)]


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
