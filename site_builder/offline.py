"""Search from disk: an index of plain <script> files for the search page when Pagefind cannot run.

Browsers block Pagefind's fetch() and JavaScript modules on file://, so the search page falls back
to themes/default/static/offline-search.js, which loads these files with <script src> (each calls
the global `sbOffline(kind, key, data)`) and only the ones a query needs:

  search-offline/meta.js            counts, the term shards' prefixes, filter values with counts
  search-offline/terms/<hex>.js     {word: postings} for the words under one prefix (a trie leaf),
                                    named by the prefix's UTF-8 in hex (meta.js lists the names)
  search-offline/filters/<name>.js  {value: postings} for one filter (region, tag, year, measure)
  search-offline/docs/<n>.js        title, date, excerpt of CHUNK events, for the results shown

Documents are the current archive's events (the pages Pagefind indexes), numbered newest first,
so date order is id order. Postings are ascending ids, each written as the gap from the previous
id minus one in base 36, followed by the word's weight as one capital letter (A = 2 … Z = 27) when
above 1.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, partial
from itertools import accumulate, chain, repeat
from operator import add, and_, rshift, sub
from pathlib import Path
from typing import Any, cast

from jinja2 import Environment

from . import timeline
from .model import Archive, Event
from .render import environment, search_filters

FOLDER = "search-offline/"
FORMAT = 2  # bumped when the files' layout changes; offline-search.js checks it
FILTERS = ("region", "tag", "year", "measure")
CHUNK = 20  # events per display chunk: a page of 50 results loads at most 50 small files
SHARD_BYTES = 24_000  # a prefix whose words take more than this is split by one more letter
MAX_PREFIX = 5  # a shard's prefix is never longer: the words under it stay together, however many
EXCERPT_CHARS = 240
# Relevance weights per field (a word's weight in an event is the sum over its occurrences).
TITLE, SUMMARY, LABELS = 5, 2, 2  # and 1 for the narrative and the rest of the page
MAX_WEIGHT = 27  # one capital letter: A = 2 … Z = 27

# --- words: mirrored exactly by words() in offline-search.js ------------------------------------
#
# The whole text is normalised, then split into runs of letters and digits. This approximates
# Pagefind's normalisation and stemming: NFKD, lower case, combining marks dropped (é ~ e; Arabic
# tashkeel U+064B–U+065F and U+0670 are marks, and أ إ آ lose their hamza or madda), tatweel and
# zero-width (non-)joiners dropped so they never split a word, ٱ -> ا, ى -> ي, ة -> ه, ς -> σ,
# Arabic-Indic digits -> ASCII digits, then NFC. Stems are left to prefix matching at query time:
# "kill" finds "killed" and "killings".

_FOLD = (
    {"\u0671": "\u0627", "\u0649": "\u064a", "\u0629": "\u0647", "\u03c2": "\u03c3"}
    | {chr(0x0660 + d): str(d) for d in range(10)}
    | {chr(0x06F0 + d): str(d) for d in range(10)}
)
_FOLDABLE = re.compile("[\u0671\u0649\u0629\u03c2\u0660-\u0669\u06f0-\u06f9]")
_WORD = re.compile(r"[^\W_]+")  # letters and digits: the same set as [\p{L}\p{N}] in JavaScript
_ASCII_WORD = re.compile("[a-z0-9]+")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _class(points: Iterable[int]) -> str:
    """A regex character class body for these code points, as ranges."""
    spans: list[list[int]] = []
    for c in points:
        if spans and spans[-1][1] == c - 1:
            spans[-1][1] = c
        else:
            spans.append([c, c])
    return "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in spans)


@cache
def _dropped() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """What normalisation drops: [\\p{M}\\u200B-\\u200D\\u0640] (for text within U+FFFF, and for any).

    Python's re has no \\p{M}, so the marks come from unicodedata: all lie below U+20000 but the
    variation selectors E0100–E01EF. A class reaching beyond U+FFFF is matched range by range,
    several times slower, so text without such characters gets the smaller class."""
    marks = [c for r in (range(0x20000), range(0xE0100, 0xE01F0)) for c in r if unicodedata.category(chr(c))[0] == "M"]
    extra = "\u200b-\u200d\u0640"
    return (
        re.compile(f"[{_class(c for c in marks if c <= 0xFFFF)}{extra}]+"),
        re.compile(f"[{_class(marks)}{extra}]+"),
    )


def words(text: str) -> list[str]:
    """The searchable words of `text`, normalised, in order."""
    if text.isascii():  # the same result, faster: most text in most archives
        return _ASCII_WORD.findall(text.lower())
    text = unicodedata.normalize("NFKD", text).lower()
    text = _dropped()[1 if _ASTRAL.search(text) else 0].sub("", text)
    text = _FOLDABLE.sub(lambda m: _FOLD[m[0]], text)  # str.translate reads every character: slower
    return _WORD.findall(unicodedata.normalize("NFC", text))


@cache
def _piece_words(piece: str) -> tuple[str, ...]:
    return tuple(words(piece))


def word_counts(text: str) -> Counter[str]:
    """How often each word of `text` occurs: the words of words(text), found faster. Whitespace
    never joins or splits a word, so each whitespace-separated piece is normalised once per build
    (the cache is cleared after it), and all of it runs in C."""
    return Counter(chain.from_iterable(map(_piece_words, text.split())))


# --- Markdown to text, cheaply: the index needs words, not structure ----------------------------

# No bracket inside a link's text, target or label, nor a line break in a reference's label: each
# match attempt then stops at the next bracket, and a narrative of a million brackets takes
# linear time, not hours (a link with brackets in its target keeps them, as words).
_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^()\[\]]*\)|\[([^\[\]]*)\]\[[^\[\]]*\]")
_REFERENCE = re.compile(r"^ {0,3}\[[^\[\]\n]+\]:.*$", re.MULTILINE)
_MARKUP = re.compile(r"^ {0,3}(?:#{1,6} |> ?|[-*+] |\d+[.)] )|[*_`]+|\\(?=\S)", re.MULTILINE)


def markdown_words(body: str) -> str:
    """The narrative's text without link targets and reference definitions (a strip, not a parse,
    50 times faster); other markup is punctuation, which words() skips."""
    if "]" in body:
        body = _REFERENCE.sub("", _LINK.sub(lambda m: m[1] or m[2] or "", body))
    return html.unescape(body) if "&" in body else body


def excerpt(event: Event, body: str) -> str:
    """The summary, else the start of the narrative (from markdown_words), as plain text of about EXCERPT_CHARS."""
    text = event.summary or _MARKUP.sub("", body[: EXCERPT_CHARS * 4])
    text = " ".join(text.split())
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text.rfind(" ", 0, EXCERPT_CHARS)
    return text[: cut if cut > EXCERPT_CHARS // 2 else EXCERPT_CHARS].rstrip(" ,;:") + "…"


# --- the files ---------------------------------------------------------------------------------

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


@cache
def _base36(n: int) -> str:
    if n < 0:
        raise ValueError(f"postings must be ascending ids, got a gap of {n + 1}")
    out = ""
    while True:
        n, digit = divmod(n, 36)
        out = _B36[digit] + out
        if not n:
            return out


_WEIGHT = ["", ""] + [chr(ord("A") + w - 2) for w in range(2, MAX_WEIGHT + 1)]
_LETTERS = "".join(_WEIGHT)


def postings(ids: list[int], weights: Iterable[int]) -> str:
    """Ascending ids as gaps-minus-one in base 36, each followed by its weight when above 1 (A = 2 … Z = 27)."""
    gaps = map(sub, ids, chain((0,), map((1).__add__, ids)))  # all in C: there are millions
    codes = map(_WEIGHT.__getitem__, map(min, weights, repeat(MAX_WEIGHT)))
    return ",".join(map(add, map(_base36, gaps), codes))


def script(kind: str, key: str | int, data: Any) -> bytes:
    """One index file: a call of the global callback. ASCII only and no '<', so neither '</script>',
    '<!--' nor U+2028/2029 in the content can end the script or the string early."""
    text = json.dumps(data, ensure_ascii=True, sort_keys=True, separators=(",", ":")).replace("<", "\\u003c")
    return f"sbOffline({json.dumps(kind)},{json.dumps(key)},{text});\n".encode("ascii")


_CALL = re.compile(r"sbOffline\((.*)\);\n", re.DOTALL)


def read(data: bytes) -> tuple[str, str | int, Any]:
    """(kind, key, data) of an index file: the inverse of script(), for tests and benchmarks."""
    match = _CALL.fullmatch(data.decode("ascii"))
    if not match:
        raise ValueError("not an offline index file")
    kind, key, value = json.loads(f"[{match[1]}]")
    return kind, key, value


def decode(text: str) -> list[tuple[int, int]]:
    """(id, weight) pairs: the inverse of postings(), as offline-search.js reads them."""
    out, doc = [], -1
    for part in text.split(",") if text else []:
        weight = 1
        if "A" <= part[-1] <= "Z":
            weight, part = ord(part[-1]) - 63, part[:-1]
        doc += int(part, 36) + 1
        out.append((doc, weight))
    return out


def shards(terms: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Split the sorted words into prefix groups of about SHARD_BYTES: (prefix, words) in prefix order.

    A group that is too big is split by one more letter; a word equal to the prefix it was split
    at stays in a group of its own under that prefix, so each word belongs to exactly one group."""
    out: list[tuple[str, list[str]]] = []
    sizes = {w: len(w) + len(postings) + 6 for w, postings in terms.items()}

    def split(prefix: str, group: list[str]) -> None:
        size = sum(map(sizes.__getitem__, group))
        if size <= SHARD_BYTES or len(prefix) >= MAX_PREFIX or len(group) == 1:
            out.append((prefix, group))
            return
        children: dict[str, list[str]] = {}
        for word in group:
            children.setdefault(word[: len(prefix) + 1], []).append(word)
        for key in sorted(children):
            split(key, children[key])

    split("", sorted(terms))
    return out


def shard_name(prefix: str) -> str:
    """A term shard's file name, from its prefix (hex of its UTF-8: ASCII on any disk), so that an
    edit splitting one shard renames no other: numbered shards all moved up one after a split."""
    return prefix.encode("utf-8").hex() or "_"


def _filter_files(docs: list[dict[str, list[str]]]) -> Iterator[tuple[str, bytes]]:
    for name in FILTERS:
        values: dict[str, list[int]] = {}
        for doc, filters in enumerate(docs):
            for value in sorted(set(filters[name])):  # two regions may share a name
                values.setdefault(value, []).append(doc)
        data = {value: postings(ids, repeat(1)) for value, ids in values.items()}
        yield f"filters/{name}.js", script("filter", name, data)


def _page_text(event: Event, narrative: str, publisher: Callable[[str, Event], str]) -> str:
    """What the event page shows as text besides title, summary and labels (Pagefind reads it too):
    the narrative, the statements, the figures' own words, the sources."""
    parts = [narrative, *(f"{s.speaker} {s.role} {s.organization} {s.text}" for s in event.statements)]
    parts += [f"{t.verbatim} {t.scope}" for t in event.tallies]
    parts += [f"{publisher(s.id, event)} {s.title}" for s in event.sources]
    return "\n".join(parts)


@dataclass(frozen=True)
class Document:
    """What the index keeps of one event: its filter values, its words and their weights (each a
    space-separated string: two objects to keep or send between processes, not hundreds), and the
    row the results show."""

    filters: dict[str, list[str]]
    words: str
    weights: str
    shown: list[str]


def documents(env: Environment, language: str) -> Callable[[Event], Document]:
    """The function making an event's Document, with the labels and names of `env`."""
    tree = cast(timeline.RegionTree, env.globals["tree"])
    measure = cache(cast(Callable[[str], str], env.filters["measure"]))  # a few labels, 10,000s of calls
    date = cast(Callable[..., str], env.filters["date"])
    publisher = cast(Callable[[str, Event], str], env.filters["publisher_name"])

    def document(event: Event) -> Document:
        chosen = search_filters(event, tree, language, measure)
        narrative = markdown_words(event.body)
        counts = word_counts(_page_text(event, narrative, publisher))
        for text, weight in (
            (event.title, TITLE),
            (event.summary, SUMMARY),
            (" ".join([*chosen["region"], *event.tags]), LABELS),
        ):
            for word, n in word_counts(text).items():
                counts[word] += n * weight
        shown = [event.id, event.title, date(event.date), excerpt(event, narrative)]
        return Document(chosen, " ".join(counts), " ".join(map(str, counts.values())), shown)

    return document


def files(archive: Archive, theme: Path, overrides: Path | None = None) -> dict[str, bytes]:
    """Every file of the offline index, by path under FOLDER; the same archive gives the same bytes."""
    document = documents(environment(archive, theme, overrides), archive.site.language)
    events = timeline.in_date_order(archive.events)[::-1]  # newest first: id order is date order
    docs = [document(event) for event in events]
    _piece_words.cache_clear()
    return index(docs)


def index(docs: Sequence[Document]) -> dict[str, bytes]:
    """The files from the events' Documents, newest event first."""
    return index_files(encode(docs), [d.filters for d in docs], [d.shown for d in docs])


def encode(docs: Iterable[Document]) -> dict[str, str]:
    """Each word's postings (see `postings`), the documents numbered in the order given."""
    # word -> its postings, each packed as id << 32 | weight (a weight counts one word in one entry),
    # in an array: 8 bytes a posting, not the 40 of a list of ints (millions of postings)
    terms: defaultdict[str, array[int]] = defaultdict(partial(array, "Q"))
    for doc, document in enumerate(docs):
        packed = doc << 32
        for word, weight in zip(document.words.split(), map(int, document.weights.split()), strict=True):
            terms[word].append(packed | weight)
    mask = (1 << 32) - 1
    return {
        word: postings(list(map(rshift, pairs, repeat(32))), map(and_, pairs, repeat(mask)))
        for word, pairs in terms.items()
    }


def _weights(document: Document | None) -> dict[str, int]:
    return dict(zip(document.words.split(), map(int, document.weights.split()), strict=True)) if document else {}


def update(encoded: dict[str, str], doc: int, old: Document | None, new: Document | None) -> None:
    """`encoded` as `encode` makes it with document `doc` replaced (None: no words), the others
    and their numbers unchanged: an edit changes a few words' postings, not two million."""
    before, after = _weights(old), _weights(new)
    for word in before.keys() | after.keys():
        weight = after.get(word)
        if before.get(word) == weight:
            continue
        parts = encoded[word].split(",") if word in encoded else []
        ids = list(accumulate((int(part.rstrip(_LETTERS), 36) + 1 for part in parts), initial=-1))[1:]
        codes = [part.lstrip(_B36) for part in parts]
        at = bisect_left(ids, doc)
        if at < len(ids) and ids[at] == doc:
            del ids[at], codes[at], parts[at]
        if weight is not None:
            ids.insert(at, doc)
            codes.insert(at, _WEIGHT[min(weight, MAX_WEIGHT)])
            parts.insert(at, "")
        for i in (at, at + 1):  # the gaps that changed: to this posting and from it to the next
            if i < len(ids):
                parts[i] = _base36(ids[i] - (ids[i - 1] if i else -1) - 1) + codes[i]
        if parts:
            encoded[word] = ",".join(parts)
        else:
            del encoded[word]


@dataclass(frozen=True)
class _Made:
    """What `index_files` made last in this process, for the next call to reuse where its input is
    the same: a `serve` rebuild after one edit changes a few words, one filter and one chunk."""

    terms: dict[str, tuple[list[str], tuple[str, ...], bytes]]  # shard name -> words, postings, file
    filters: list[dict[str, list[str]]]
    filter_files: dict[str, bytes]
    counts: dict[str, Any]  # by filter, for meta.js
    shown: list[list[str]]
    docs: dict[str, bytes]


_last: list[_Made] = []


def index_files(
    encoded: dict[str, str], filters: list[dict[str, list[str]]], shown: list[list[str]]
) -> dict[str, bytes]:
    """The files from the postings, and the documents' filter values and rows, newest first.

    Each file is a function of part of the input (a shard's words and their postings, a filter's
    values, a chunk's rows): a part equal to the last call's gives the last call's file."""
    last = _last[0] if _last else None
    groups = shards(encoded)
    names = [shard_name(prefix) for prefix, _ in groups]
    terms: dict[str, tuple[list[str], tuple[str, ...], bytes]] = {}
    for name, (_, group) in zip(names, groups, strict=True):
        kept = last.terms.get(name) if last else None
        postings = tuple(map(encoded.__getitem__, group))
        if kept and kept[0] == group and kept[1] == postings:
            terms[name] = kept
        else:
            terms[name] = group, postings, script("terms", name, dict(zip(group, postings, strict=True)))
    if last and last.filters == filters:
        filter_files, counts_by_filter = last.filter_files, last.counts
    else:
        filter_files = dict(_filter_files(filters))
        counts_by_filter = {name: dict(Counter(v for f in filters for v in set(f[name]))) for name in FILTERS}
    docs = {}
    for n in range(0, len(shown), CHUNK):
        rel, rows = f"docs/{n // CHUNK}.js", shown[n : n + CHUNK]
        kept_doc = last.docs.get(rel) if last and last.shown[n : n + CHUNK] == rows else None
        docs[rel] = kept_doc or script("docs", n // CHUNK, rows)
    _last[:] = [_Made(terms, list(filters), filter_files, counts_by_filter, list(shown), docs)]
    meta = {
        "format": FORMAT,
        "count": len(shown),
        "chunk": CHUNK,
        "shards": [prefix for prefix, _ in groups],
        "files": names,
        "filters": counts_by_filter,
    }
    out = {f"terms/{name}.js": file for name, (_, _, file) in terms.items()}
    out |= filter_files | docs
    out["meta.js"] = script("meta", "", meta)
    return dict(sorted(out.items()))
