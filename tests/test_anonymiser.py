"""The anonymiser on its own: pure functions, no app, no database."""

from __future__ import annotations

import json
from datetime import date

import pytest

from journal.export import batch
from journal.export.anonymiser import Anonymiser, CaseFacts, ListedPerson, anonymise_texts

FACTS = CaseFacts(
    client_name="Thomas Bell", preferred_name="Tom", aliases=("Tommy",),
    date_of_birth=date(1987, 3, 14), contacts=("tom.bell87@example.co.uk", "0161 496 0732"),
    people=(ListedPerson("Sarah Bell", "wife"), ListedPerson("Mark", "brother"),
            ListedPerson("Grace", "sister"), ListedPerson("张伟", "friend"),
            ListedPerson("Will Hope", "")),
    first_session=date(2026, 1, 12),
)


def anonymise(text: str, facts: CaseFacts = FACTS) -> str:
    return Anonymiser(facts).anonymise(text)[0]


@pytest.mark.parametrize("text", [
    "Tom's wife said so.", "TOM arrived late.", "tommy texted.", "\"Tom, stop\" she said.",
    "Thomas Bell attended.", "Mr Bell was calm.", "bell's palsy? No: Bell's mood lifted.",
])
def test_client_variants_never_survive(text):
    out = anonymise(text)
    assert "[Client]" in out
    for name in ("Tom", "TOM", "tommy", "Thomas", "Bell"):
        assert name not in out.replace("[Client]", "")


def test_people_get_role_labels_consistently():
    a = Anonymiser(FACTS)
    first, _ = a.anonymise("Sarah and Mark argued.")
    second, _ = a.anonymise("Later mark's text upset Sarah Bell.")
    assert first == "[Wife] and [Brother] argued."
    assert second == "Later [Brother]'s text upset [Wife]."


def test_names_that_are_words_only_go_where_they_are_names():
    out = anonymise("Will you come? I will try. Grace said there is little grace in it. "
                    "There is hope. Hope was kind. I told mark.")
    assert out.startswith("Will you come? I will try. [Sister] said there is little grace")
    assert "There is hope." in out and "I told [Brother]." in out


def test_chinese_names_and_their_forms():
    out = anonymise("张伟说他很累。小伟和张先生是一个人。Zhang Wei came, zhang wei left.")
    assert "张伟" not in out and "小伟" not in out and "张先生" not in out
    assert "Zhang Wei" not in out and "zhang wei" not in out
    assert out.count("[Friend]") == 5


@pytest.mark.parametrize(("text", "secret", "label"), [
    ("write to tom.bell87@example.co.uk today", "tom.bell87@example.co.uk", "[Email]"),
    ("or j.doe@example.org", "j.doe@example.org", "[Email]"),
    ("call +1 312 484 2297 after 5", "312 484 2297", "[Phone]"),
    ("mobile 0412 345 678.", "0412 345 678", "[Phone]"),
    ("ring 087 123 4567", "087 123 4567", "[Phone]"),
    ("ph +91 98765 43210", "98765 43210", "[Phone]"),
    ("电话13812345678联系", "13812345678", "[Phone]"),
    ("NHS number 943 476 5919.", "943 476 5919", "[NHS number]"),
    ("SSN 536-22-1874 on file", "536-22-1874", "[SSN]"),
    ("身份证号110105199003071239。", "110105199003071239", "[ID number]"),
    ("card 4539 1488 0343 6467 lost", "4539 1488 0343 6467", "[Card number]"),
    ("see https://example.com/tom?x=1 later", "example.com/tom", "[URL]"),
    ("she follows @tommyb_87 online", "@tommyb_87", "[Handle]"),
    ("微信号 lily_chen88 加了", "lily_chen88", "[WeChat ID]"),
    ("lives in LS6 2QT now", "LS6 2QT", "[Postcode]"),
    ("Eircode D02 X285.", "D02 X285", "[Postcode]"),
    ("Chicago, IL 60614 is home", "60614", "[Postcode]"),
    ("at 14 Rosebank Road, Leeds", "14 Rosebank Road", "[Address]"),
    ("住在上海市徐汇区漕溪北路88号。", "漕溪北路88号", "[Address]"),
    ("ref 88213377 unknown", "88213377", "[Number]"),
])
def test_structured_identifiers(text, secret, label):
    out = anonymise(text, CaseFacts())
    assert secret not in out and label in out


def test_dates_become_weeks_and_ages_bands():
    out = anonymise("Seen on 3 March 2026, again 2026-03-10 and 2026年3月17日. Born 14 March "
                    "1987; he is 38 years old, his nan is 93. 奶奶92岁。Next in May.")
    assert "[week 8]" in out and "[week 9]" in out and "[week 10]" in out
    assert "[age 35–39]" in out and "35–39 years old" in out
    assert "in May" in out and "92" not in out
    assert "before intake" in anonymise("On 1 January 2026 it began.")


def test_clinical_language_survives():
    text = ("Last Tuesday we used CBT and EMDR; PHQ-9 fell from 18 to 11 and GAD-7 to 9. "
            "Sertraline 50mg continues. At Christmas and Diwali she struggles. "
            "上周三她说春节很难。")
    assert anonymise(text, CaseFacts()) == text


def test_unlisted_names_are_replaced_and_flagged():
    texts = ["Priya Sharma from work called. Dr Okafor reviewed. i told aoife. 同事刘建国也来了。"]
    out, flagged = anonymise_texts(CaseFacts(), texts)
    for name in ("Priya", "Okafor", "aoife", "刘建国"):
        assert name not in out[0]
        assert any(name in f for f in flagged)


def test_leak_check_finds_listed_names():
    a = Anonymiser(FACTS)
    assert a.leaks("Nothing here but [Client].") == []
    assert a.leaks("Tom's note") == ["Tom"]
    assert a.leaks("mail tom.bell87@example.co.uk") != []


def test_kept_flagged_terms_stay_and_others_go():
    a = Anonymiser(CaseFacts())
    spans = a.scan("Priya met Okafor.")
    out, replacements = a.apply("Priya met Okafor.", spans, keep=frozenset(
        r.key for r in spans if "okafor" in r.key))
    assert out == "[Person 1] met Okafor."
    assert [r.applied for r in replacements] == [True, False]


def test_emoji_mixed_and_empty():
    out, flagged = anonymise_texts(FACTS, ["", "😔 Tom 好累 🙂", "张伟 and Sarah 💬"])
    assert out == ["", "😔 [Client] 好累 🙂", "[Friend] and [Wife] 💬"]


def test_batch_contract_and_bad_input(tmp_path):
    good = {"cases": [{"id": "x", "client": {"name": "Ann Lee"}, "texts": ["Ann cried."]},
                      {"id": 7, "texts": []}]}
    cases = batch.parse_input(good)
    assert batch.anonymise_cases(cases) == {"cases": [
        {"id": "x", "texts": ["[Client] cried."], "flagged": []},
        {"id": "7", "texts": [], "flagged": []}]}
    for bad, message in [
        ([], "top level"), ({"cases": [{"texts": []}]}, "cases[0].id"),
        ({"cases": [{"id": "a"}]}, "cases[0].texts: missing"),
        ({"cases": [{"id": "a", "texts": "x"}]}, "cases[0].texts"),
        ({"cases": [{"id": "a", "texts": [], "first_session": "12/01/2026"}]},
         "cases[0].first_session"),
        ({"cases": [{"id": "a", "texts": [], "people": [{"name": 3}]}]},
         "cases[0].people[0].name"),
    ]:
        with pytest.raises(batch.BadInput, match=message.replace("[", r"\[").replace("]", r"\]")):
            batch.parse_input(bad)
    path = tmp_path / "in.json"
    path.write_text(json.dumps(good)[:-3])
    with pytest.raises(batch.BadInput, match="not valid JSON"):
        batch.read_input(path)


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    target = tmp_path / "out.json"

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        batch.write_atomically(target, b"{}")
    assert list(tmp_path.iterdir()) == []


def test_names_with_letters_whose_lower_case_is_longer_are_still_found():
    # "İ".lower() is "i̇" (two characters): the name used to be looked for only in that form,
    # so "İlker" survived, and "ılker" (dotless i) stopped the export with a KeyError.
    facts = CaseFacts(client_name="İlker Yılmaz", people=(ListedPerson("Şule Işık", "wife"),))
    a = Anonymiser(facts)
    for text in ("İlker said so.", "ilker said so.", "ILKER said so.", "i̇lker said so.",
                 "ılker said so.", "YILMAZ said so."):
        out = a.anonymise(text)[0]
        assert out == "[Client] said so.", (text, out)
        assert a.leaks(text) != []
    assert a.anonymise("Şule Işık came.")[0] == "[Wife] came."


def test_the_memo_belongs_to_one_anonymiser_and_no_word_is_cached_for_the_process():
    from journal.export.anonymiser import lexicon

    first, second = Anonymiser(FACTS), Anonymiser(FACTS)
    first.anonymise("Priya met Okafor.")
    assert first._memo.words and not second._memo.words
    # Words from notes must not outlive the export in a process-wide cache.
    for function in (lexicon.is_first_name, lexicon.is_english_word, lexicon.is_keep_word):
        assert not hasattr(function, "cache_info")


@pytest.mark.parametrize("pattern, starts", [
    (r"(?<![\w.])\+?\(?\d[\d \t().\-/]{4,}\d(?![\w])", (0, 1, 2)),
    (r"\b[A-PR-UWYZ][A-HK-Y]?[0-9]", (1, 2)),
])
def test_matching_only_where_a_match_can_start_finds_what_finditer_finds(pattern, starts):
    import random
    import re

    from journal.export.anonymiser.matching import Digits, before, matches_from

    compiled = re.compile(pattern, re.ASCII)
    rng = random.Random(4)  # noqa: S311 - test data, not secrets
    for _ in range(2000):
        text = "".join(rng.choice("0123456789 +().-/ABNSW1a٣") for _ in range(rng.randint(0, 40)))
        found = [m.span() for m in matches_from(compiled, text, before(Digits(text).ascii,
                                                                         *starts))]
        assert found == [m.span() for m in compiled.finditer(text)], text


def test_word_list_answers_like_a_set():
    from journal.export.anonymiser.lexicon import WordList

    words = {"a", "ab", "abc", "b", "ba", "zebra", "é", "über"}
    listed = WordList(words)
    assert len(listed) == len(words)
    for word in [*words, "", "aa", "abcd", "c", "zebr", "zebras", "Über", "ü"]:
        assert (word in listed) == (word in words), word
    assert 3 not in listed
