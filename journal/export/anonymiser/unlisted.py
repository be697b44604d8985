"""Names nobody listed, and places and organisations that identify in combination.

These are guesses, so every one is flagged for the counsellor to review (and, in the batch
command, reported in `flagged`). English: capitalised words that are not dictionary,
calendar or clinical words, first names from a ~40-country list (also in lower case),
surnames after a title, runs of capitalised words ending in "School" or "Ltd". Chinese:
jieba's person, place and organisation tags, checked against the surname list, and the
forms of address built on a surname (老王, 小李, 陈老师).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import compress
from typing import NamedTuple

from . import lexicon
from .spans import ORGANISATION, PLACE, UNLISTED, Span

_TOKEN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'’\-]*")
_START, _GROUP = re.Match.start, re.Match.group
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_SENTENCE_END = ".!?\n:;•*–—\"“”()[]"
_PERSON_VERBS = {"said", "says", "told", "texted", "called", "asked", "came", "went", "was",
                 "is", "has", "had", "wants", "wanted", "thinks", "thought", "rang", "left",
                 "shouted", "cried", "laughed", "and", "who", "feels", "felt", "seems",
                 "mentioned", "suggested", "visited", "arrived", "replied", "admitted"}
_CONNECTORS = {"of", "and", "&", "de", "van", "von", "da", "di", "le", "la", "du", "st", "st."}
_LEADING_FUNCTION = "和跟与同对给被把让叫找陪带等向替帮"


def _sentence_start(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t'‘(\u00a0":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END or ord(text[i]) > 0x2000


def _strip_possessive(word: str) -> str:
    for ending in ("'s", "’s", "'", "’"):
        if word.endswith(ending):
            return word[: -len(ending)]
    return word


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() and not word.isupper()


class Memo:
    """Decisions about single words and Chinese runs, remembered for one Anonymiser only
    (one export): the same word in the same place is judged the same way, so each distinct
    word is looked up in the word lists once. Dies with the Anonymiser; never shared."""

    __slots__ = ("chinese", "strong", "titles", "words")

    # Chinese runs longer than this, or past this many, are segmented every time: the memo
    # stays small however long the case is.
    MAX_RUN = 200
    MAX_RUNS = 20_000

    def __init__(self) -> None:
        self.words: dict[str, _Word] = {}
        # Words that may be a name wherever they stand (a possible given name, a capitalised
        # non-word), and titles ("Dr", "sister"): set operations find them in a text.
        self.strong: set[str] = set()
        self.titles: set[str] = set()
        self.chinese: dict[str, tuple[tuple[int, int, Span], ...]] = {}


# What a token can become, judged from the word alone (see _judge for the rules).
_NEVER = 0  # too short, a keep-word, an acronym, or an everyday word
_LOWER_NAME = 1  # a lower-case given name that is not an everyday word ("priya")
_LOWER_AFTER_TITLE = 2  # a lower-case non-word: a name only after a title ("dr ellison")
_CAP_AFTER_TITLE = 3  # a capitalised everyday word ("The", "Walk"): a name only after a title
_CAP = 4  # capitalised: depends on where it stands and what comes before and after


class _Word(NamedTuple):
    word: str  # the token without a possessive ending
    lower: str  # word.lower()
    kind: int
    dictionary: bool
    first_name: bool
    title: bool  # the raw token is a title ("Dr", "Mrs")


def _word_info(raw: str) -> _Word:
    word = _strip_possessive(raw)
    lower = word.lower()
    title = raw.lower().rstrip(".") in lexicon.TITLES
    if len(word) < 2 or lexicon.is_keep_word(word):
        return _Word(word, lower, _NEVER, False, False, title)
    if not word[0].isupper():
        # Lower case: given names that are not everyday words ("priya", "jess"), and a
        # non-word after a title ("dr ellison").
        dictionary = lexicon.is_english_word(word)
        if len(word) >= 3 and lexicon.is_first_name(word) and (
                not dictionary or lower not in lexicon.COMMON_NAME_WORDS
                and lower not in lexicon.FUNCTION_WORDS and not _common_english(lower)):
            return _Word(word, lower, _LOWER_NAME, dictionary, True, title)
        kind = _NEVER if dictionary else _LOWER_AFTER_TITLE
        return _Word(word, lower, kind, dictionary, False, title)
    if word.isupper() and len(word) <= 6:
        return _Word(word, lower, _NEVER, False, False, title)  # an acronym: NHS, CBT, HSBC
    dictionary = lexicon.is_english_word(word)
    first_name = lexicon.is_first_name(word)
    # A dictionary word is a name (away from a title) only if it is a given name and not a
    # function word ("The", "May" … stay words): otherwise only a title makes it one.
    ordinary = dictionary and (not first_name or lower in lexicon.FUNCTION_WORDS)
    kind = _CAP_AFTER_TITLE if ordinary else _CAP
    return _Word(word, lower, kind, dictionary, first_name, title)


def _english(text: str, covered: bytearray, memo: Memo) -> Iterator[Span]:
    matches = list(_TOKEN.finditer(text))
    if not matches:
        return
    raws = list(map(_GROUP, matches))
    # Most tokens are everyday words that no context makes a name: find the others with
    # C-level passes (a set, maps, compress) instead of a Python loop over every token.
    words, strong, titles = memo.words, memo.strong, memo.titles
    for raw in set(raws).difference(words):
        info = words[raw] = _word_info(raw)
        if info.kind in (_LOWER_NAME, _CAP):
            strong.add(raw)
        if info.title:
            titles.add(raw)
    count = len(raws)
    candidates = ([] if strong.isdisjoint(raws)
                  else list(compress(range(count), map(strong.__contains__, raws))))
    if not titles.isdisjoint(raws):  # a word after a title may be a name only there
        after_titles = compress(range(1, count), map(titles.__contains__, raws))
        candidates = sorted({*candidates, *(i for i in after_titles if words[raws[i]].kind in (
            _LOWER_AFTER_TITLE, _CAP_AFTER_TITLE))})
    if not candidates:
        return
    starts: list[int] | None = None
    i = 0  # tokens before i belong to a span already found
    for candidate in candidates:
        if candidate < i:
            continue
        i = candidate
        if starts is None:
            starts = list(map(_START, matches))
        start = starts[i]
        if covered[start]:
            continue
        decision = _judge(text, raws, starts, words, i)
        if decision is None:
            continue
        info = words[raws[i]]
        word = info.word
        end = start + len(word)
        # Extend over following capitalised words: "Priya Sharma", "St Mary's Primary School".
        j, last_end = i + 1, end
        while j < count:
            n_start, n_raw = starts[j], raws[j]
            gap = text[last_end:n_start]
            n_word = words[n_raw].word
            if gap.strip() not in ("", "&") or "\n" in gap or covered[n_start]:
                break
            if _is_capitalised(n_word) and not lexicon.is_keep_word(n_word) or (
                    n_word.lower() in _CONNECTORS and j + 1 < count
                    and _is_capitalised(raws[j + 1])):
                last_end = n_start + len(n_word)
                j += 1
                continue
            break
        phrase = text[start:last_end]
        last_word = phrase.split()[-1].lower().rstrip(".")
        category = decision
        if last_word in lexicon.ORG_SUFFIXES and " " in phrase:
            category = ORGANISATION
        key_words = phrase if category != UNLISTED else phrase.split()[0]
        label = ""
        if category == ORGANISATION:
            before = text[max(0, start - 30):start].lower()
            if any(cue in before for cue in lexicon.EMPLOYER_CUES):
                label = "employer"
        yield Span(start, last_end, category, f"{category}:{key_words.lower()}", label,
                   flagged=True)
        i = j


def _judge(text: str, raws: list[str], starts: list[int], words: dict[str, _Word],
           i: int) -> str | None:
    """UNLISTED / PLACE / ORGANISATION for a token that looks like a name, else None.

    `_word_info` has already sorted out what the word alone decides: keep-words, acronyms,
    lower-case given names, and dictionary words that only a title before them makes a name.
    """
    info = words[raws[i]]
    kind = info.kind
    if kind == _LOWER_NAME:
        return UNLISTED
    if kind == _LOWER_AFTER_TITLE:
        return UNLISTED  # the caller checked the title before it
    start = starts[i]
    if i and words[raws[i - 1]].title and starts[i - 1] + len(raws[i - 1]) + 2 >= start:
        return UNLISTED
    if kind == _CAP_AFTER_TITLE:
        return None
    lower, dictionary, first_name = info.lower, info.dictionary, info.first_name
    previous = raws[i - 1].lower().rstrip(".") if i else ""
    if _sentence_start(text, start):
        if not dictionary:
            return _place_or_person(previous, first_name, lower)
        if first_name and lower not in lexicon.FUNCTION_WORDS:
            following = raws[i + 1].lower() if i + 1 < len(raws) else ""
            if following in _PERSON_VERBS or following.endswith("ed") and len(following) > 3 \
                    and following.islower():
                return UNLISTED
        return None
    if not dictionary:
        return _place_or_person(previous, first_name, lower)
    if first_name and lower not in lexicon.MONTHS and lower not in lexicon.FUNCTION_WORDS:
        return UNLISTED
    return None


def _common_english(lower: str) -> bool:
    """Lower-case words that are names in the list yet everyday English ("carol" aside)."""
    return lower in _EVERYDAY


_EVERYDAY = {"and", "the", "more", "else", "even", "still", "well", "fine", "love", "dear",
             "sunny", "happy", "merry", "noble", "young", "early", "bright", "gay", "rich",
             "sage", "honor", "honour", "trust", "true", "memory", "story", "world", "day",
             "night", "morning", "light", "life", "hero", "princess", "baby", "babe", "sugar",
             "candy", "cookie", "lucky", "lovely", "precious", "sweet", "echo", "ocean",
             "dusty", "misty", "stormy", "windy", "mercy", "glory", "blessing", "page", "dot",
             "tip", "tim", "sam", "kim", "lee", "van", "bo", "so", "ty", "al", "ed", "do",
             "cam", "mo", "an", "lou", "gus", "rex", "ace", "sol", "sun", "moon", "star",
             "loyal", "ever", "noel", "carol", "amen", "mint", "sky", "zen", "gem", "bliss",
             "dream", "wish", "free", "brave", "bold", "calm", "clay", "flint", "steel"}


def _place_or_person(previous: str, first_name: bool, lower: str) -> str:
    if previous in lexicon.PLACE_PREPOSITIONS and not first_name:
        return PLACE
    return UNLISTED


def _surname_start(word: str) -> bool:
    return word.startswith(lexicon.CN_SURNAMES_COMPOUND) or word[:1] in lexicon.CN_SURNAMES


# Surname characters that are more often ordinary words before a title ("那老师" = "that
# teacher"); the regex pass skips them, jieba's tags still catch real names.
_AMBIGUOUS_SURNAMES = set("那和于时明向全成都来但由信展应元国海强利富平相初门云容敬普乐花权解原单"
                          "文安")
_CN_ADDRESS_FORM = re.compile(
    "(?P<s>[" + "".join(sorted(lexicon.CN_SURNAMES - _AMBIGUOUS_SURNAMES)) + "])(?:"
    + "|".join(s for s in lexicon.CN_NAME_SUFFIXES if len(s) >= 2) + ")")


def _chinese(text: str, covered: bytearray, memo: Memo) -> Iterator[Span]:
    tags = None
    chinese = False
    for run in _CJK_RUN.finditer(text):
        chinese = True
        words = run.group()
        found = memo.chinese.get(words)
        if found is None:
            if tags is None:
                jieba, tags = lexicon.jieba_tokeniser()
            found = _judged_run(jieba, tags, words)
            if len(words) <= Memo.MAX_RUN and len(memo.chinese) < Memo.MAX_RUNS:
                memo.chinese[words] = found
        offset = run.start()
        for word_start, word_end, span in found:
            if covered[offset + word_start:offset + word_end].count(1):
                continue
            yield Span(offset + span.start, offset + span.end, span.category, span.key,
                       span.label, span.flagged)
    # Forms of address are Chinese characters: none in a text without any.
    for m in _CN_ADDRESS_FORM.finditer(text) if chinese else ():
        if not covered[m.start():m.end()].count(1):
            yield Span(m.start(), m.start() + 1, UNLISTED, f"{UNLISTED}:{m.group('s')}",
                       flagged=True)


def _judged_run(jieba, tags: lexicon.JiebaTags, run: str  # noqa: ANN001 - jieba has no types
                ) -> tuple[tuple[int, int, Span], ...]:
    """The candidates in one run of Chinese, at offsets within the run: (where the word
    starts, where it ends, the span found in it)."""
    found = []
    position = 0
    for word, tag in _merged_names(jieba.cut(run), tags):
        start, position = position, position + len(word)
        span = _judge_chinese(word, tag, start)
        if span is not None:
            found.append((start, position, span))
    return tuple(found)


def _merged_names(words: Iterator[str], tags: lexicon.JiebaTags) -> Iterator[tuple[str, str]]:
    """Words with their dictionary tag ("" when jieba found a new word). A lone surname and
    the given name after it (王 + 秀英), or 小/老/阿 and a surname (小 + 李), become one."""
    pending: str | None = None
    for word in words:
        tag = tags.get(word, "")
        if pending is not None:
            joined = pending + word
            if pending in lexicon.CN_NAME_PREFIXES and len(word) == 1 and (
                    word in lexicon.CN_SURNAMES or pending == "阿" and _CJK_RUN.fullmatch(word)
                    and tag not in _FUNCTION_TAGS):
                yield joined, "nr"
                pending = None
                continue
            if pending not in lexicon.CN_NAME_PREFIXES and 1 <= len(word) <= 2 and \
                    _CJK_RUN.fullmatch(word) and (tag in ("", "nr", "nrfg") or len(word) == 1
                                                  and tag not in _FUNCTION_TAGS):
                yield joined, "nr"
                pending = None
                continue
            yield pending, tags.get(pending, "")
            pending = None
        if word in lexicon.CN_NAME_PREFIXES or (
                len(word) == 1 and word in lexicon.CN_SURNAMES and tag.startswith("nr")):
            pending = word
            continue
        yield word, tag
    if pending is not None:
        yield pending, tags.get(pending, "")


# Single characters that are grammar, not a given name (的, 了, 说 ...).
_FUNCTION_TAGS = {"uj", "ul", "uz", "ug", "uv", "ud", "p", "c", "r", "d", "v", "m", "q", "y",
                  "x", "f", "zg", "e", "o", "u"}


def _judge_chinese(word: str, tag: str, start: int) -> Span | None:
    if word in lexicon.CN_KEEP or len(word) < 2 or not _CJK_RUN.fullmatch(word):
        return None
    if tag.startswith("nr") or tag == "":
        stripped = word.lstrip(_LEADING_FUNCTION)
        start += len(word) - len(stripped)
        suffix = next((s for s in _SUFFIXES_LONGEST_FIRST
                       if stripped.endswith(s) and len(stripped) > len(s)), "")
        core = stripped[: len(stripped) - len(suffix)] if suffix else stripped
        bare = core[1:] if core[:1] in lexicon.CN_NAME_PREFIXES and len(core) > 1 else core
        nickname = len(core) == 2 and core[0] in ("阿", "小") and tag in ("", "nr")
        if core in lexicon.CN_KEEP or not 1 <= len(bare) <= 3:
            return None
        if nickname:
            return Span(start, start + len(core), UNLISTED, f"{UNLISTED}:{core}", flagged=True)
        if not _surname_start(bare):
            return None
        if len(bare) == 1 and core == bare and not suffix:
            return None
        if tag == "" and len(bare) == 1 and not (suffix or core != bare):
            return None
        return Span(start, start + len(core), UNLISTED, f"{UNLISTED}:{bare}", flagged=True)
    if tag == "ns":
        return Span(start, start + len(word), PLACE, f"{PLACE}:{word}", flagged=True)
    if tag == "nt":
        return Span(start, start + len(word), ORGANISATION, f"{ORGANISATION}:{word}",
                    flagged=True)
    return None


_SUFFIXES_LONGEST_FIRST = sorted(lexicon.CN_NAME_SUFFIXES, key=len, reverse=True)


def find_unlisted(text: str, covered: bytearray, memo: Memo | None = None) -> list[Span]:
    """Candidates outside `covered` (a byte per character: 1 where something was found).
    `memo` is the Anonymiser's (one export's); without one, nothing is remembered."""
    memo = memo if memo is not None else Memo()
    return [*_english(text, covered, memo), *_chinese(text, covered, memo)]
