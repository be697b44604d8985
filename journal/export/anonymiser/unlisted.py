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

from . import lexicon
from .spans import ORGANISATION, PLACE, UNLISTED, Span

_TOKEN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'’\-]*")
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


def _english(text: str, covered: bytearray) -> Iterator[Span]:
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    i = 0
    while i < len(tokens):
        start, end, raw = tokens[i]
        word = _strip_possessive(raw)
        end = start + len(word)
        if covered[start] or len(word) < 2:
            i += 1
            continue
        decision = _judge(text, tokens, i, word)
        if decision is None:
            i += 1
            continue
        # Extend over following capitalised words: "Priya Sharma", "St Mary's Primary School".
        j, last_end = i + 1, end
        while j < len(tokens):
            n_start, _n_end, n_raw = tokens[j]
            gap = text[last_end:n_start]
            n_word = _strip_possessive(n_raw)
            if gap.strip() not in ("", "&") or "\n" in gap or covered[n_start]:
                break
            if _is_capitalised(n_word) and not lexicon.is_keep_word(n_word) or (
                    n_word.lower() in _CONNECTORS and j + 1 < len(tokens)
                    and _is_capitalised(tokens[j + 1][2])):
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


def _judge(text: str, tokens: list[tuple[int, int, str]], i: int, word: str) -> str | None:
    """UNLISTED / PLACE / ORGANISATION for a token that looks like a name, else None."""
    if lexicon.is_keep_word(word):
        return None
    lower = word.lower()
    previous = tokens[i - 1][2].lower().rstrip(".") if i else ""
    following = tokens[i + 1][2].lower() if i + 1 < len(tokens) else ""
    start = tokens[i][0]
    if not word[0].isupper():
        # Lower case: given names that are not everyday words ("priya", "jess"), and a
        # non-word after a title ("dr ellison").
        if len(word) >= 3 and lexicon.is_first_name(word) and (
                not lexicon.is_english_word(word) or lower not in lexicon.COMMON_NAME_WORDS
                and lower not in lexicon.FUNCTION_WORDS and not lexicon.is_keep_word(word)
                and not _common_english(lower)):
            return UNLISTED
        if previous in lexicon.TITLES and not lexicon.is_english_word(word):
            return UNLISTED
        return None
    if word.isupper() and len(word) <= 6:
        return None  # an acronym: NHS, CBT, HSBC
    dictionary = lexicon.is_english_word(word)
    first_name = lexicon.is_first_name(word)
    at_start = _sentence_start(text, start)
    if previous in lexicon.TITLES and tokens[i - 1][0] + len(tokens[i - 1][2]) + 2 >= start:
        return UNLISTED
    if at_start:
        if not dictionary:
            return _place_or_person(previous, first_name, lower)
        if first_name and lower not in lexicon.FUNCTION_WORDS and (
                following in _PERSON_VERBS or following.endswith("ed") and len(following) > 3
                and following.islower()):
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


def _chinese(text: str, covered: bytearray) -> Iterator[Span]:
    tags = None
    for run in _CJK_RUN.finditer(text):
        if tags is None:
            jieba, tags = lexicon.jieba_tokeniser()
        position = run.start()
        for word, tag in _merged_names(jieba.cut(run.group()), tags):
            start, position = position, position + len(word)
            if covered[start:position].count(1):
                continue
            span = _judge_chinese(word, tag, start)
            if span is not None:
                yield span
    for m in _CN_ADDRESS_FORM.finditer(text):
        if not covered[m.start():m.end()].count(1):
            yield Span(m.start(), m.start() + 1, UNLISTED, f"{UNLISTED}:{m.group('s')}",
                       flagged=True)


def _merged_names(words: Iterator[str], tags: dict[str, str]) -> Iterator[tuple[str, str]]:
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


def find_unlisted(text: str, covered: bytearray) -> list[Span]:
    """Candidates outside `covered` (a byte per character: 1 where something was found)."""
    return [*_english(text, covered), *_chinese(text, covered)]
