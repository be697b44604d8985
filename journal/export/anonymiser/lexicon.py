"""Word lists: what must survive (clinical and calendar words) and what names look like.

The big lists (an English dictionary, a first-name list, jieba's segmentation dictionary,
pypinyin's tables) are loaded on first use only, so a web worker that never exports stays
small. Everything ships inside installed packages: nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
import logging
import sys
import warnings
from array import array
from collections.abc import Iterable
from typing import IO

WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
            "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"}
MONTHS = {"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
          "july": 7, "august": 8, "september": 9, "october": 10, "november": 11,
          "december": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7,
          "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12}

# Capitalised words that are not identifying: calendar, faith, nationality, family words,
# therapy acronyms and clinical vocabulary. Compared in lower case.
KEEP_WORDS = {
    # holidays and seasons
    "christmas", "xmas", "easter", "diwali", "deepavali", "holi", "eid", "ramadan",
    "hanukkah", "passover", "thanksgiving", "halloween", "new", "year", "years", "lent",
    "advent", "boxing", "day", "valentine", "valentine's", "mother's", "father's",
    "mothering", "sunday", "st", "patrick's", "anzac", "australia", "independence",
    "memorial", "labor", "labour", "bank", "holiday", "lunar", "spring", "festival",
    "summer", "autumn", "fall", "winter", "term", "half-term",
    # people words that are capitalised as forms of address
    "i", "i'm", "i've", "i'd", "i'll", "mum", "mom", "mummy", "mommy", "dad", "daddy",
    "nan", "nana", "gran", "granny", "grandma", "grandad", "grandpa", "auntie", "aunty",
    "uncle", "god", "jesus", "allah", "buddha", "lord", "christ", "bible", "quran",
    "koran", "church", "mosque", "temple", "gurdwara", "synagogue",
    "christian", "muslim", "hindu", "sikh", "jewish", "buddhist", "catholic", "protestant",
    "english", "british", "irish", "scottish", "welsh", "american", "australian", "indian",
    "chinese", "mandarin", "cantonese", "hindi", "tamil", "punjabi", "urdu", "bengali",
    "european", "asian", "african", "aboriginal", "māori", "maori", "pakistani",
    "polish", "french", "spanish", "german", "italian", "kiwi", "aussie", "yankee",
    # therapy, services and measures
    "cbt", "dbt", "act", "emdr", "mbct", "mbsr", "ifs", "cft", "cat", "ipt", "pct", "sfbt",
    "tf-cbt", "nhs", "gp", "a&e", "er", "ed", "camhs", "cmht", "iapt", "talking",
    "therapies", "samaritans", "shout", "lifeline", "beyond", "blue", "medicare",
    "medicaid", "hse", "phq-9", "phq9", "phq", "gad-7", "gad7", "gad", "core-10", "core-om",
    "core", "ors", "srs", "wemwbs", "bdi", "bdi-ii", "bai", "pcl-5", "audit", "audit-c",
    "dass-21", "dass", "k10", "epds", "ptsd", "c-ptsd", "cptsd", "ocd", "adhd", "add",
    "asd", "asc", "bpd", "eupd", "mdd", "pmdd", "ibs", "me", "cfs", "hiv", "covid",
    "covid-19", "dsm", "dsm-5", "icd", "icd-10", "icd-11", "soap", "dap", "birp", "smart",
    "safety", "plan", "risk", "suicidal", "ideation", "self-harm", "ssri", "snri", "maoi",
    "mam", "mammy", "ammi", "amma", "appa", "abba", "papa", "mama", "nani", "dadi", "nanu",
    "onam", "ramzan", "pongal", "navratri", "dussehra", "raksha", "bandhan",
    "eve", "mid-autumn", "vesak", "kwanzaa", "matariki", "narcan", "gamstop",
    "ok", "okay", "tv", "wifi", "uk", "us", "usa", "eu", "un", "aa", "na", "al-anon",
    "zoom", "teams", "whatsapp", "wechat", "facebook", "instagram", "tiktok", "twitter",
    "snapchat", "youtube", "google", "iphone", "ipad", "netflix", "linkedin", "weibo",
    "qq", "douyin", "xiaohongshu", "reddit", "discord", "uber", "amazon",
    "mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "january",
    "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december",
    "session", "sessions", "client", "counsellor", "counselor", "therapist", "subjective",
    "objective", "assessment", "data", "response", "behaviour", "behavior",
    "intervention", "interventions", "presenting", "issue", "issues", "goals", "goal",
    "homework", "observations", "observation", "summary", "notes", "note", "next", "steps",
    "mood", "affect", "risk:", "plan:", "week", "weeks", "today", "yesterday", "tomorrow",
}

# Everyday words newer than the 1934/1913 dictionaries the word list is built from.
MODERN_WORDS = {
    "email", "emails", "emailed", "emailing", "app", "apps", "laptop", "online", "offline",
    "internet", "website", "texted", "texting", "selfie", "smartphone", "podcast", "podcasts",
    "blog", "vlog", "meme", "memes", "gaming", "gamer", "livestream", "download", "upload",
    "voicemail", "screenshot", "screen", "scrolling", "doomscrolling", "ghosted", "ghosting",
    "lockdown", "lockdowns", "furlough", "furloughed", "wellbeing", "mindfulness", "burnout",
    "neurodivergent", "neurodiverse", "autistic", "dyslexic", "trans", "nonbinary",
    "non-binary", "cisgender", "bisexual", "pansexual", "asexual", "lgbt", "lgbtq",
    "lgbtqia", "okay", "ok", "yeah", "yep", "nope", "hmm", "lol", "omg", "tbh", "btw",
    "whatsapp", "facetime", "uber", "vape", "vaping", "overthinking", "triggered",
    "triggering", "gaslighting", "gaslit", "boundaries", "check-in", "checkin", "debrief",
    "telehealth", "zoom", "hybrid", "wfh", "anyway", "anyways", "dunno", "gonna", "wanna",
    "kinda", "sorta", "mum's", "mom's", "dad's", "mumma", "grandkids", "uni", "sixth",
    "form", "gcse", "gcses", "a-levels", "sats", "ucas", "hsc", "vce", "atar", "leaving",
    "cert", "junior", "senior", "year", "kindy", "kindergarten", "preschool", "daycare",
    "nursery", "payslip", "payday", "benefits", "universal", "credit", "centrelink",
}
# Words that are never a person's name at the start of a sentence, whatever a name list says.
FUNCTION_WORDS = {
    "he", "she", "it", "we", "they", "you", "i", "me", "him", "her", "us", "them", "his",
    "hers", "its", "our", "ours", "their", "theirs", "my", "mine", "your", "yours", "this",
    "that", "these", "those", "there", "here", "the", "a", "an", "and", "but", "or", "so",
    "yet", "for", "nor", "if", "when", "while", "as", "because", "since", "after", "before",
    "then", "now", "also", "still", "just", "only", "even", "both", "each", "all", "some",
    "any", "no", "not", "one", "other", "another", "such", "what", "which", "who", "whom",
    "whose", "why", "how", "where", "did", "do", "does", "was", "were", "is", "are", "be",
    "been", "has", "have", "had", "can", "could", "will", "would", "shall", "should", "may",
    "might", "must", "to", "of", "in", "on", "at", "by", "with", "from", "into", "over",
    "under", "about", "again", "very", "much", "more", "most", "less", "least", "well",
    "yes", "sure", "maybe", "perhaps", "often", "never", "always", "sometimes", "today",
    "later", "soon", "once", "twice", "first", "second", "last", "next", "many", "few",
    "lot", "lots", "ever", "every", "nothing", "something", "everything", "anything",
    "nobody", "somebody", "everyone", "someone", "anyone", "said", "says", "felt", "feel",
    "feels", "thank", "thanks", "please", "sorry", "hi", "hello", "dear", "love",
}
# Names that are also everyday words: in lower case they are words unless the words around
# say "a person" ("told mark"); a rarer word that is a name ("tommy", "jess") is a name.
COMMON_NAME_WORDS = {
    "will", "may", "can", "mark", "hope", "bill", "grace", "faith", "joy", "rose", "dawn",
    "sandy", "summer", "frank", "april", "june", "august", "patience", "constance", "pat",
    "sue", "rob", "jack", "ray", "art", "gene", "guy", "victor", "drew", "chase", "hunter",
    "brook", "river", "sky", "amber", "ruby", "pearl", "iris", "daisy", "lily", "ivy",
    "holly", "jade", "crystal", "honey", "melody", "sunny", "rocky", "sage", "autumn",
    "winter", "destiny", "harmony", "justice", "heather", "rich", "penny", "bob", "hazel",
    "olive", "violet", "jasmine", "ginger", "cliff", "dale", "glen", "wade", "miles",
    "lance", "dean", "earl", "royal", "king", "duke", "major", "reed", "ford", "gray",
    "grant", "price", "long", "young", "black", "white", "brown", "green", "baker", "cook",
    "smith", "wells", "hall", "hill", "wood", "stone", "bell", "page", "lane", "marsh",
    "carol", "chuck", "kit", "nick", "max", "don", "ben", "tom", "bud", "sonny", "rusty",
    "buddy", "angel", "star", "blue", "storm", "rain", "snow", "fern", "willow", "robin",
    "wren", "jay", "lark", "finch", "sparrow", "fox", "wolf", "bear", "ash", "oak", "en",
    "an", "so", "li", "le", "de", "la", "van", "von", "al", "ed", "jo",
}
# Medications seen in counselling notes (generic and common brand names).
MEDICATIONS = {
    "sertraline", "zoloft", "lustral", "fluoxetine", "prozac", "citalopram", "cipramil",
    "celexa", "escitalopram", "cipralex", "lexapro", "paroxetine", "seroxat", "paxil",
    "fluvoxamine", "venlafaxine", "effexor", "desvenlafaxine", "duloxetine", "cymbalta",
    "mirtazapine", "zispin", "remeron", "bupropion", "wellbutrin", "zyban", "trazodone",
    "amitriptyline", "nortriptyline", "clomipramine", "imipramine", "dosulepin",
    "vortioxetine", "brintellix", "trintellix", "agomelatine", "valdoxan", "phenelzine",
    "lithium", "priadel", "lamotrigine", "lamictal", "valproate", "depakote", "epilim",
    "carbamazepine", "tegretol", "quetiapine", "seroquel", "olanzapine", "zyprexa",
    "risperidone", "risperdal", "aripiprazole", "abilify", "clozapine", "clozaril",
    "haloperidol", "lurasidone", "latuda", "paliperidone", "diazepam", "valium",
    "lorazepam", "ativan", "alprazolam", "xanax", "clonazepam", "klonopin", "rivotril",
    "temazepam", "zopiclone", "zolpidem", "ambien", "stilnox", "melatonin", "circadin",
    "promethazine", "phenergan", "propranolol", "inderal", "pregabalin", "lyrica",
    "gabapentin", "neurontin", "buspirone", "hydroxyzine", "atarax", "methylphenidate",
    "ritalin", "concerta", "medikinet", "lisdexamfetamine", "elvanse", "vyvanse",
    "dexamfetamine", "adderall", "atomoxetine", "strattera", "guanfacine", "intuniv",
    "naltrexone", "acamprosate", "disulfiram", "antabuse", "buprenorphine", "subutex",
    "suboxone", "methadone", "naloxone", "nicotine", "varenicline", "champix",
    "levothyroxine", "metformin", "insulin", "ibuprofen", "paracetamol", "acetaminophen",
    "tylenol", "codeine", "tramadol", "co-codamol", "aspirin", "omeprazole", "salbutamol",
    "ventolin", "contraceptive", "pill", "hrt", "estradiol", "testosterone", "prednisolone",
    "esketamine", "spravato", "ketamine", "clonidine", "prazosin", "modafinil",
}

# Words that sit beside a name in a title ("Dr Okafor") or show an organisation follows.
TITLES = {"dr", "dr.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "mx", "prof",
          "prof.", "professor", "sister", "nurse", "father", "fr", "pastor", "rev",
          "reverend", "aunt", "auntie", "uncle", "coach", "judge", "officer", "pc", "sgt",
          "advocate", "adv", "detective", "inspector", "constable", "sergeant", "captain",
          "councillor", "senator", "magistrate", "principal", "headteacher", "imam", "rabbi",
          "sheikh", "swami", "guruji", "ma'am"}
ORG_SUFFIXES = {"ltd", "limited", "plc", "inc", "llc", "pty", "group", "school", "college",
                "university", "academy", "hospital", "clinic", "surgery", "practice",
                "centre", "center", "council", "trust", "bank", "church", "primary",
                "secondary", "high", "grammar", "institute", "services", "solutions",
                "partners", "associates", "company", "co", "corp", "corporation", "foundation",
                "society", "club", "cafe", "café", "restaurant", "hotel", "pharmacy",
                "supermarket", "store", "stores", "gym", "studio", "agency", "department",
                "ward", "unit", "prison", "station", "barracks", "factory", "mill", "farm"}
PLACE_PREPOSITIONS = {"in", "at", "from", "to", "near", "outside", "around", "towards",
                      "via", "into"}
EMPLOYER_CUES = ("works at", "works for", "worked at", "worked for", "working at",
                 "working for", "job at", "job with", "employed by", "employer", "manager at",
                 "boss at", "shift at", "shifts at", "interview at", "hired by", "fired from",
                 "redundant from", "laid off from", "in an office at", "placement at")

# Chinese: common single-character and compound surnames (a name starts with one of these).
CN_SURNAMES_COMPOUND = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容",
                        "令狐", "长孙", "宇文", "司徒", "夏侯", "端木", "轩辕")
CN_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左"
    "柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶"
    "解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟"
    "邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储"
    "原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平"
    "计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战"
    "慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
# Chinese forms of address around a surname or given name (老王, 小李, 王先生 ...).
CN_NAME_PREFIXES = ("小", "老", "阿")
CN_NAME_SUFFIXES = ("先生", "女士", "小姐", "老师", "医生", "大夫", "经理", "总", "姐", "哥",
                    "阿姨", "叔", "叔叔", "主任", "同学", "师傅", "太太", "夫人", "教授",
                    "律师", "护士", "老板", "校长", "妹", "弟", "警官", "大爷", "大妈", "大姐",
                    "大哥", "院长", "局长", "科长", "处长", "队长", "班长", "总监", "主管",
                    "书记", "部长", "阿婆", "婆婆", "奶奶", "爷爷", "老太", "师兄", "师姐")
# Time and calendar words jieba sometimes tags as names; never treated as names.
CN_KEEP = {"上周", "下周", "本周", "这周", "周一", "周二", "周三", "周四", "周五", "周六", "周日",
           "周末", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期天", "星期日",
           "上周一", "上周二", "上周三", "上周四", "上周五", "上周六", "上周日", "下周一",
           "下周二", "下周三", "下周四", "下周五", "春节", "中秋", "中秋节", "端午", "端午节",
           "清明", "清明节", "国庆", "国庆节", "元旦", "除夕", "元宵", "元宵节", "七夕",
           "重阳", "劳动节", "儿童节", "母亲节", "父亲节", "圣诞", "圣诞节", "新年", "过年",
           "寒假", "暑假", "舍曲林", "氟西汀", "帕罗西汀", "艾司西酞普兰", "西酞普兰", "文拉法辛",
           "度洛西汀", "米氮平", "安非他酮", "曲唑酮", "阿普唑仑", "劳拉西泮", "氯硝西泮",
           "地西泮", "唑吡坦", "右佐匹克隆", "喹硫平", "奥氮平", "利培酮", "阿立哌唑", "碳酸锂",
           "丙戊酸钠", "拉莫三嗪", "褪黑素", "认知行为疗法", "正念", "抑郁", "焦虑", "抑郁症",
           "焦虑症", "强迫症", "双相", "失眠", "惊恐", "创伤", "自伤", "自杀", "咨询师", "来访者",
           "心理咨询", "心理", "医生", "老师", "同学", "同事", "领导", "妈妈", "爸爸", "老公",
           "老婆", "丈夫", "妻子", "儿子", "女儿", "哥哥", "姐姐", "弟弟", "妹妹", "奶奶", "爷爷",
           "外婆", "外公", "姥姥", "姥爷", "小时候", "小学", "老家", "老板", "小孩", "小区",
           "老人", "阿姨", "叔叔", "小组", "小事", "小心", "老实", "老是", "小说", "明天",
           "今天", "昨天", "前天", "后天", "以后", "之前", "最近", "平时", "有时", "时候", "常常",
           "安全", "高兴", "文化", "和平", "平安", "晓得", "明白", "向往", "关心", "方便", "高考",
           "中考", "周围", "周期", "安全岛", "小时", "小朋友", "小孩子", "小姐", "老板娘", "老大",
           "老二", "老三", "小学生", "老公公", "老婆婆", "小伙子", "小姑娘"}


class WordList:
    """A large, fixed set of words in little memory: one string of them all, sorted, and
    where each ends, searched by bisection. (A frozenset of the ~300,000 dictionary words
    takes about 60 MB; this takes about 4.)"""

    def __init__(self, words: Iterable[str]) -> None:
        ordered = sorted(set(words))
        self._joined = "".join(ordered)
        ends = array("L")
        end = 0
        for word in ordered:
            end += len(word)
            ends.append(end)
        self._ends = ends

    def __len__(self) -> int:
        return len(self._ends)

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        joined, ends = self._joined, self._ends
        low, high = 0, len(ends)
        while low < high:
            middle = (low + high) // 2
            start = ends[middle - 1] if middle else 0
            if joined[start:ends[middle]] < word:
                low = middle + 1
            else:
                high = middle
        if low == len(ends):
            return False
        return joined[ends[low - 1] if low else 0:ends[low]] == word


@functools.cache
def english_words() -> WordList:
    """Lower-case English dictionary words (web2 and GCIDE word lists, shipped in
    `english-words`), with the keep-words, medications, modern and function words."""
    import pickle
    from importlib import resources  # heavy data: loaded on the first export

    words: set[str] = set(KEEP_WORDS) | MEDICATIONS | MODERN_WORDS | FUNCTION_WORDS
    data = resources.files("english_words").joinpath("data")
    for name in ("web2_alpha.pickle", "gcide_alpha.pickle"):
        # What get_english_words_set(["web2", "gcide"], alpha=True) reads, one list at a
        # time so the peak stays low. Capitalised entries are proper nouns: only lower-case
        # entries are words.
        listed = pickle.loads(data.joinpath(name).read_bytes())  # noqa: S301 - package data
        words.update(w for w in listed if w.islower())
        del listed
    return WordList(words)


@functools.cache
def _first_names() -> object:
    import gender_guesser.detector as detector  # heavy: loaded on the first export

    return detector.Detector(case_sensitive=False)


def is_first_name(word: str) -> bool:
    """A given name in any of the ~40 countries the gender-guesser list covers.

    Not cached here: words come from clinical text, and a process-wide cache would keep them
    after the export. The Anonymiser remembers its own words (unlisted.Memo)."""
    if len(word) < 2 or not word.isalpha():
        return False
    return _first_names().get_gender(word) != "unknown"  # type: ignore[attr-defined]


def is_english_word(word: str) -> bool:
    lower = word.lower().strip("'’")
    if lower.endswith(("'s", "’s")):
        lower = lower[:-2]
    return lower in english_words()


def is_keep_word(word: str) -> bool:
    lower = word.lower().strip("'’.,")
    if lower.endswith("s") and lower[:-1] in WEEKDAYS:
        lower = lower[:-1]  # "on Wednesdays"
    return lower in KEEP_WORDS or lower in MEDICATIONS or lower in MONTHS or lower in WEEKDAYS


class JiebaTags:
    """The part-of-speech tags of jieba's dictionary words, as far as the anonymiser asks.

    `get(word, "")` answers like jieba.posseg's `word_tag_tab.get(word, "")`, for every
    question unlisted.py asks of a tag: "" for a word not in the dictionary; the exact tag
    for names (nr, nrfg, nrt …), places (ns), organisations (nt) and any single character
    (whose grammar tags matter); "n" for any other dictionary word, which answers every one
    of those questions as its own tag would. Built straight from jieba's dict.txt (as
    jieba.posseg does; nothing here adds words to jieba), without importing jieba.posseg and
    its tagging model: about half the memory."""

    OTHER = "n"

    def __init__(self, freq: dict[str, int], dict_file: IO[bytes]) -> None:
        self._freq = freq  # jieba's own: every dictionary word has a frequency above 0
        tags: dict[str, str] = {}
        with dict_file:
            for line in dict_file:
                entry = line.strip().decode("utf-8")
                if not entry:
                    continue
                word, count, tag = entry.split(" ")
                if len(word) == 1 or tag.startswith("nr") or tag in ("ns", "nt") or \
                        int(count) <= 0:
                    tags[word] = sys.intern(tag)
                else:
                    tags.pop(word, None)  # a later line wins, as in posseg
        self._tags = tags

    def get(self, word: str, default: str = "") -> str:
        tag = self._tags.get(word)
        if tag is not None:
            return tag
        return self.OTHER if self._freq.get(word, 0) > 0 else default


@functools.cache
def jieba_tokeniser():  # noqa: ANN201 - jieba ships no type hints
    """jieba's segmenter and its dictionary's part-of-speech tags (nr person, ns place, nt
    organisation), loaded once: about a second on first use. Words jieba's HMM discovers are
    not in the dictionary and get no tag. (jieba.posseg tags them too, but is ~20x slower.)"""
    with warnings.catch_warnings():
        # jieba 0.42 imports pkg_resources, which newer setuptools marks as deprecated.
        warnings.simplefilter("ignore")
        import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba, JiebaTags(jieba.dt.FREQ, jieba.dt.get_dict_file())


def pinyin_syllables(text: str) -> list[list[str]]:
    """Every reading of each character (heteronyms included), without tones."""
    import pypinyin  # heavy: loaded on the first export

    return pypinyin.pinyin(text, style=pypinyin.Style.NORMAL, heteronym=True, errors="ignore")
