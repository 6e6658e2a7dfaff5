"""A SYNTHETIC archive of any size, for benchmarks: made-up places, sources, events and words.

    .venv/bin/python benchmarks/synthetic.py DIR --events 10000 [--seed 0]

writes DIR/content/ (site.yaml, regions.yaml, sources.yaml, events/<year>/*.md); DIR/content must
not exist yet. Nothing in it describes real events: a seeded random generator makes up every
place, publisher, figure, statement and word (pseudo-words, a few hundred common English words
and a few dozen generic Arabic words, some with diacritics or tatweel). The site is titled
"SYNTHETIC benchmark archive" and every narrative starts with "Synthetic entry.".

The shape follows a real archive: 10 countries of 10 sub-regions each (names in English and
Arabic), 50 sources, events spread over 2015–2024 with 1–4 figures, 0–2 statements, 1–3 sources,
tags, and a narrative of a few hundred words whose vocabulary follows Zipf's law, with two made-up
names of people in each (the rare words: most occur in one or two entries). The same n and
seed give the same files. 10,000 entries take a few seconds, mostly the file system's. `site-builder
check` passes (with a few "looks like a duplicate" warnings, where made-up titles happen to be alike).
Links point to example.org, a domain reserved for examples.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

COUNTRIES = 10
SUBREGIONS = 10  # per country
SOURCES = 50
SENTENCES = 4000  # the pool narratives and summaries are drawn from
FIRST_DAY = date(2015, 1, 1)
DAYS = (date(2024, 12, 31) - FIRST_DAY).days


def _words(text: str) -> list[str]:
    return text.split()


COMMON = _words("""the of and to in a that was were said by on for with from at as after their its
is be had have has been they it not which an or who this more than about people town village
city road market school hospital clinic camp shelter bridge river water power council district
checkpoint convoy residents families children women men workers doctors teachers farmers police
forces fighters army group groups armed local officials witnesses monitor report reports reported
according statement footage video images night morning evening day days week weeks month early
late later earlier during before near north south east west central coast border area areas
region villages towns streets homes houses buildings shops mosque church station airport port
fuel food bread aid supplies trucks vehicles killed injured wounded missing detained displaced
arrested fled returned attack attacks shelling strike strikes clashes fire gunfire raid raids
protest protests protesters crowd demonstration curfew siege blockade evacuation ceasefire talks
agreement negotiations release prisoners bodies graves investigation inquiry committee commission
figures toll count counts estimate estimates least approximately hundreds dozens thousands
several many some most all none two three four five ten first second third last new old
government opposition militia security civilians civilian health medical emergency humanitarian
international national regional provincial united nations agency office ministry spokesperson
described called denied confirmed accused warned urged demanded announced claimed stated added
because while however although despite since until into over under between across against
along around without within toward""")

# Generic Arabic news words (no names, no facts): village, city, market, hospital, school, ...
ARABIC = _words("""قرية مدينة سوق مستشفى مدرسة طريق جسر نهر ماء كهرباء مخيم حاجز مجلس ميناء محطة حقل
تقرير شهود عائلات أطفال نساء إسعاف اشتباكات احتجاج اعتقال مفقودين جرحى قتلى نازحين مدنيين
قصف غارة حصار هدنة مساعدات خبز وقود لجنة تحقيق بيان مكتب وزارة منظمة الأمم المتحدة المنطقة
الساحل الحدود الشمال الجنوب الشرق الغرب ليلة صباح مساء يوم أسبوع شهر إحصاء تقديرات""")
DIACRITICS = ("\u064e", "\u064f", "\u0650", "\u0651", "\u0652")  # fatha, damma, kasra, shadda, sukun
TATWEEL = "\u0640"

SYLLABLES = _words("ka ri mo ten var dul sel nor ba zi qu ast len mir ot pa ro shen tal vek dor an ul is")
ARABIC_SYLLABLES = _words("تل كفر عين دير بيت قصر جب حمر زر بر سن مر ور ق ن")

MEASURES = ("killed", "injured", "missing", "detained", "displaced")
GROUPS = ("all", "civilians", "combatants", "security-forces", "children")
QUALIFIERS = ("exact", "approximately", "at-least", "more-than", "up-to", "fewer-than")
TAGS = (
    "killings",
    "shelling",
    "airstrike",
    "displacement",
    "detentions",
    "protest",
    "aid",
    "siege",
    "ceasefire",
    "negotiations",
    "disappearances",
    "sectarian-violence",
    "background",
    "infrastructure",
    "health",
)
SOURCE_TYPES = ("monitor", "news-agency", "news-report", "government", "united-nations", "commission")
SPEAKERS = ("A local council", "Residents", "A synthetic monitor", "A hospital director", "Witnesses", "A spokesperson")


@dataclass(frozen=True)
class Vocabulary:
    sentences: list[str]
    titles: list[str]  # pseudo-words for titles and slugs (ASCII)


def _pseudo(rng: random.Random, syllables: list[str], low: int, high: int) -> str:
    return "".join(rng.choice(syllables) for _ in range(rng.randint(low, high)))


def _arabic_word(rng: random.Random) -> str:
    """A generic Arabic word, sometimes written with diacritics or stretched with tatweel."""
    word = rng.choice(ARABIC)
    roll = rng.random()
    if roll < 0.2:
        return "".join(c + (rng.choice(DIACRITICS) if rng.random() < 0.5 else "") for c in word)
    if roll < 0.25 and len(word) > 2:
        return word[:2] + TATWEEL * rng.randint(1, 3) + word[2:]
    return word


def vocabulary(rng: random.Random) -> Vocabulary:
    """A Zipf-distributed word list (common words first, then 6,000 pseudo-words) and a sentence pool;
    1,000 more pseudo-words name the places in titles."""
    found: set[str] = set()
    while len(found) < 7000:
        found.add(_pseudo(rng, SYLLABLES, 2, 4))
    pseudo = sorted(found)
    rng.shuffle(pseudo)
    words = COMMON + pseudo[:6000]
    weights = list(itertools.accumulate(1 / (rank + 1) ** 1.05 for rank in range(len(words))))
    sentences = []
    for _ in range(SENTENCES):
        chosen = rng.choices(words, cum_weights=weights, k=rng.randint(8, 22))
        if rng.random() < 0.15:
            chosen.insert(rng.randrange(len(chosen)), _arabic_word(rng))
        if rng.random() < 0.1:
            chosen.insert(rng.randrange(len(chosen)), str(rng.randint(2, 2000)))
        text = " ".join(chosen)
        sentences.append(text[0].upper() + text[1:] + ".")
    return Vocabulary(sentences, pseudo[6000:])


def _folded(key: str, text: str, indent: str = "") -> str:
    """A YAML folded scalar: every value is plain words and punctuation, so nothing needs quoting."""
    return f"{indent}{key}: >-\n{indent}  {text}\n"


def regions(rng: random.Random) -> tuple[str, list[str]]:
    """regions.yaml and the ids events may use (sub-regions, and sometimes a country)."""
    lines, ids = [], []
    for c in range(COUNTRIES):
        name = _pseudo(rng, SYLLABLES, 2, 3).capitalize()
        arabic = _pseudo(rng, ARABIC_SYLLABLES, 2, 3)
        lines.append(f"- id: country-{c:02d}\n  name: {{en: Synthetic {name}, ar: {arabic}}}\n")
        ids.append(f"country-{c:02d}")
        for s in range(SUBREGIONS):
            sub = _pseudo(rng, SYLLABLES, 2, 4).capitalize()
            sub_ar = "ال" + _pseudo(rng, ARABIC_SYLLABLES, 2, 3)
            lines.append(
                f"- id: region-{c:02d}-{s:02d}\n  name: {{en: {sub}, ar: {sub_ar}}}\n  parent: country-{c:02d}\n"
            )
            ids.append(f"region-{c:02d}-{s:02d}")
    return "".join(lines), ids


def sources() -> str:
    return "".join(
        f"- id: synthetic-source-{n:02d}\n  name: Synthetic Source {n:02d}\n"
        f"  type: {SOURCE_TYPES[n % len(SOURCE_TYPES)]}\n"
        f"  description: A made-up publisher of the SYNTHETIC benchmark archive.\n"
        for n in range(SOURCES)
    )


def _date(rng: random.Random) -> tuple[str, date, date]:
    """(EDTF text, first day, last day): mostly days, some months, intervals and approximate days."""
    start = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
    roll = rng.random()
    if roll < 0.1:
        last = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return start.isoformat()[:7], start.replace(day=1), last
    if roll < 0.2:
        end = start + timedelta(days=rng.randint(1, 5))
        return f"{start.isoformat()}/{end.isoformat()}", start, end
    if roll < 0.25:
        return start.isoformat() + "~", start, start
    return start.isoformat(), start, start


def event(rng: random.Random, n: int, vocab: Vocabulary, region_ids: list[str]) -> tuple[str, str]:
    """(path under content/, text) of the n-th SYNTHETIC event."""
    text, first, last = _date(rng)
    name = rng.choice(vocab.titles)
    topic = rng.choice(("Shelling", "Clashes", "Protest", "Displacement", "Arrests", "Aid convoy", "Siege"))
    title = f"{topic} near {name.capitalize()}, {rng.choice(vocab.titles)} and {rng.choice(vocab.titles)}"
    slug = f"{topic.lower().replace(' ', '-')}-{name}-{n}"
    event_id = f"{text.split('/')[0].rstrip('~')}-{slug}"
    cited = rng.sample(range(SOURCES), rng.randint(1, 3))
    source_ids = [f"synthetic-source-{s:02d}" for s in cited]
    places = rng.sample(region_ids, rng.randint(1, 3))
    tags = sorted(rng.sample(TAGS, rng.randint(0, 3)))

    out = ["---\n", f"title: {title}\n"]
    out.append(_folded("summary", " ".join(rng.sample(vocab.sentences, rng.randint(1, 2)))))
    out.append(f"date: {text}\nregions: [{', '.join(places)}]\n")
    if tags:
        out.append(f"tags: [{', '.join(tags)}]\n")
    out.append("tallies:\n")
    for _ in range(rng.randint(1, 4)):
        count = rng.randint(1, 3000)
        as_of = last + timedelta(days=rng.randint(0, 10))
        out.append(
            f"  - measure: {rng.choice(MEASURES)}\n    group: {rng.choice(GROUPS)}\n    count: {count}\n"
            f"    qualifier: {rng.choice(QUALIFIERS)}\n    as_of: {as_of.isoformat()}\n"
            f"    source: {rng.choice(source_ids)}\n"
        )
    statements = rng.randint(0, 2)
    if statements:
        out.append("statements:\n")
    for _ in range(statements):
        out.append(f"  - speaker: {rng.choice(SPEAKERS)}\n    kind: paraphrase\n")
        out.append(_folded("text", rng.choice(vocab.sentences), "    "))
        out.append(f"    source: {rng.choice(source_ids)}\n")
    out.append("sources:\n")
    out += [f"  - id: {s}\n    url: https://example.org/synthetic/{s}/{n}\n" for s in source_ids]
    out.append("---\nSynthetic entry. ")
    paragraphs = [rng.sample(vocab.sentences, rng.randint(3, 7)) for _ in range(rng.randint(3, 5))]
    if rng.random() < 0.3:
        paragraphs[0][0] = (
            f"According to [a synthetic report](https://example.org/synthetic/{n}), **{paragraphs[0][0]}**"
        )
    # Names make the rare words of a real archive: most occur in one or two entries.
    names = [_pseudo(rng, SYLLABLES, 3, 5).capitalize() for _ in range(2)]
    paragraphs[-1].append(f"{names[0]} and {names[1]} described what they saw.")
    out.append("\n\n".join(" ".join(p) for p in paragraphs))
    out.append("\n")
    return f"events/{first.year}/{event_id}.md", "".join(out)


def generate(root: Path, n: int, seed: int = 0) -> Path:
    """Write a SYNTHETIC archive of `n` events into root/content/ (which must not exist); returns it."""
    content = root / "content"
    content.mkdir(parents=True)
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    regions_yaml, region_ids = regions(rng)
    (content / "site.yaml").write_text(
        "title: SYNTHETIC benchmark archive\n"
        "description: >-\n  Made-up events generated for benchmarks. Nothing in this archive is real.\n"
        "base_url: https://example.org/synthetic/\nlanguage: en\n",
        encoding="utf-8",
    )
    (content / "regions.yaml").write_text(regions_yaml, encoding="utf-8")
    (content / "sources.yaml").write_text(sources(), encoding="utf-8")
    folders: set[Path] = set()
    for k in range(n):
        rel, text = event(rng, k, vocab, region_ids)
        path = content / rel
        if path.parent not in folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        path.write_text(text, encoding="utf-8")
    return content


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="folder to write content/ into")
    parser.add_argument("--events", type=int, default=10_000, help="number of events (default 10,000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    content = generate(args.dir, args.events, args.seed)
    print(f"{args.events} SYNTHETIC events in {content} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
