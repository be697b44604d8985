"""Invented, clinical-sounding text of realistic lengths for the benchmark's notes and
reflections: mostly English with some Chinese, names of people in the client's life, dates
and the odd phone number, so search, the anonymiser and the PDF font all have work to do.

Nothing here is real: sentences are assembled at random from the fragments below.
"""

from __future__ import annotations

import random

OPENINGS = (
    "Client arrived on time and settled quickly.",
    "Client arrived a few minutes late, apologetic and somewhat flustered.",
    "Session began with a check-in on the homework from last week.",
    "Client opened by describing a difficult conversation at work.",
    "We returned to the theme of sleep and the early waking reported previously.",
    "Client said the week had been 'up and down' and wanted to talk about {person}.",
    "Started with a brief grounding exercise; client reported feeling calmer afterwards.",
)
OBSERVATIONS = (
    "Affect was congruent with content; speech normal in rate and volume.",
    "Client appeared tired, with reduced eye contact during the first half of the session.",
    "Noticeably more animated when speaking about the allotment and the garden.",
    "Tearful when recalling the move away from {city}; recovered without prompting.",
    "Posture was tense at first and loosened as the session went on.",
    "No evidence of thought disorder; insight and judgement appear intact.",
    "Client laughed at several points, which seemed genuine rather than defensive.",
)
CONTENT = (
    "Client described ongoing insomnia, waking around four and ruminating about money.",
    "We explored the pattern of avoidance that shows up before family gatherings.",
    "Client linked the current anxiety to the period after the redundancy in {year}.",
    "{person} has been more supportive lately, which the client found surprising.",
    "Client reports that the breathing exercise helped twice this week, once at the bus stop.",
    "We mapped the cycle of self-criticism, low mood and withdrawal on the whiteboard.",
    "Client wonders whether the panic episodes are connected to caffeine and skipped meals.",
    "Discussed the tension between wanting closeness and fearing being a burden.",
    "Client spoke about grief for a grandparent, and guilt about not visiting more often.",
    "The argument with {person} on {date} was revisited; client could see both sides now.",
    "Client has started walking to work two days a week and notices a lift in mood.",
    "Worry about the exam results remains high; catastrophic predictions were examined.",
    "Client described feeling invisible at the team meeting and then angry with themself.",
    "We practised noticing the first signs of overwhelm: tight jaw, shallow breath.",
    "Client asked to leave {person}'s number as an emergency contact: {phone}.",
    "Appetite is reduced; client is eating one proper meal a day, usually late in the evening.",
    "Client reflected on boundaries with their manager and drafted what they might say.",
    "Reported a good weekend with {person}; the walk along the river felt restorative.",
)
ASSESSMENT = (
    "Presentation is consistent with generalised anxiety; mood is low but not flat.",
    "Risk was reviewed: no current thoughts of self-harm, protective factors remain strong.",
    "Progress is steady; the client is using the skills more spontaneously.",
    "Some regression this week, understandable given the anniversary.",
    "Engagement remains good and the working alliance feels solid.",
    "Sleep hygiene is improving, but rumination keeps the cycle going.",
)
PLANS = (
    "Plan: continue the thought record and bring two examples next time.",
    "Plan: try the wind-down routine for five nights and note the time of waking.",
    "Plan: client will speak to the GP about the sleep difficulties before we meet again.",
    "Plan: revisit the values exercise; consider inviting {person} to a joint session.",
    "Plan: schedule one pleasant activity a day and rate mood before and after.",
    "Plan: keep the worry window at 6 pm; review how it went.",
)
CHINESE = (
    "来访者说这周睡得不好，凌晨四点就醒了。",
    "她提到和母亲的关系最近有些紧张，但愿意尝试沟通。",
    "我们讨论了工作压力和完美主义之间的联系。",
    "来访者觉得呼吸练习有帮助，尤其是在地铁上。",
    "他说周末和朋友去爬山，心情好了很多。",
    "对考试结果仍然很焦虑，担心让家人失望。",
    "谈到搬家以后的孤独感，说话时眼眶有点红。",
    "下次咨询前，来访者会记录每天的情绪变化。",
)
REFLECTION = (
    "This week felt a bit lighter than last week, although Tuesday was hard.",
    "I noticed I was kinder to myself after the presentation, which surprised me.",
    "The breathing thing helped on the bus, but not at night.",
    "I keep thinking about what you said about needing to earn rest.",
    "I talked to {person} and it went better than I expected.",
    "I slept badly again and felt foggy all morning.",
    "Walking to work has become something I look forward to.",
    "I would like to talk about my dad next time, if there is room.",
    "I felt anxious before the family dinner and left early, and I am not sure that was wrong.",
    "我这周试着早点睡，效果还可以。",
    "和妈妈打电话的时候我没有生气，这对我来说是进步。",
)
PEOPLE = ("Mei", "Tom", "Aisha", "Lukas", "Priya", "Jonah", "Wang Fang", "Li Na", "Grace",
          "Marek", "Sofia", "Daniel")
RELATIONS = ("sister", "partner", "friend", "manager", "mother", "father", "flatmate",
             "brother", "colleague")
CITIES = ("Leeds", "Glasgow", "Chengdu", "Manchester", "Bristol", "Hangzhou")


def _fill(rng: random.Random, template: str, people: list[str]) -> str:
    return template.format(
        person=rng.choice(people), city=rng.choice(CITIES), year=rng.randint(2012, 2023),
        date=f"{rng.randint(1, 28)} {rng.choice(('March', 'June', 'October'))}",
        phone=f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
    )


def prose(rng: random.Random, length: int, people: list[str], pools: tuple[tuple[str, ...], ...]
          = (OPENINGS, OBSERVATIONS, CONTENT, CONTENT, ASSESSMENT), chinese: float = 0.15
          ) -> str:
    """About `length` characters of sentences from the pools (about `chinese` of them
    Chinese), in paragraphs."""
    sentences: list[str] = []
    total = 0
    while total < length:
        if rng.random() < chinese:
            sentence = rng.choice(CHINESE)
        else:
            sentence = _fill(rng, rng.choice(rng.choice(pools)), people)
        sentences.append(sentence)
        total += len(sentence) + 1
        if rng.random() < 0.2:
            sentences.append("\n\n")
    return " ".join(sentences).replace(" \n\n ", "\n\n").strip()[:length]


def note_sections(rng: random.Random, keys: list[str], people: list[str]) -> dict[str, str]:
    """A note of 800–2,500 characters in all, shared out over the template's sections."""
    total = rng.randint(800, 2500)
    if len(keys) == 1:
        return {keys[0]: prose(rng, total, people, (OPENINGS, OBSERVATIONS, CONTENT, CONTENT,
                                                    ASSESSMENT, PLANS))}
    weights = [rng.uniform(0.6, 1.4) for _ in keys]
    weights[0] += 1.0  # the first section (what was said or happened) is the longest
    scale = total / sum(weights)
    sections = {key: prose(rng, max(60, int(w * scale)), people) for key, w in
                zip(keys[:-1], weights[:-1], strict=True)}
    sections[keys[-1]] = prose(rng, max(60, int(weights[-1] * scale)), people,
                               (PLANS, ASSESSMENT), chinese=0.05)
    return sections


def reflection_texts(rng: random.Random, people: list[str]) -> dict[str, str]:
    """A client's reflection of 200–1,500 characters over the four prompts."""
    total = rng.randint(200, 1500)
    shares = [rng.uniform(0.5, 1.5) for _ in range(4)]
    scale = total / sum(shares)
    prompts = ("stood_out", "helped", "hard", "for_counsellor")
    return {p: prose(rng, max(20, int(s * scale)), people, (REFLECTION,), chinese=0.1)
            for p, s in zip(prompts, shares, strict=True)}
