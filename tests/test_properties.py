"""Property tests (Hypothesis): hostile YAML and Markdown, from parser to page.

1. Parsers: for any text, `parse_yaml` returns a tree or raises YamlError, and `parse_entry`, the
   registries, site.yaml and free pages return records and problems located in the file, never an
   exception. The fast paths (yamlnodes' line reader, markdown's plain paragraphs) give what the
   full parsers give.
2. Validator: any content tree loads and validates to an Archive or raises ContentError.
3. Renderer: hostile text in every field of a valid archive stays text: the pages have no element
   or attribute that the same archive with plain words lacks (beyond what Markdown makes), links
   are http, https, mailto or relative, no `on*` attribute, no script but the theme's own files.

Every archive here is synthetic test data, not real events. The Hypothesis profiles (`ci`:
derandomized, no database) are registered in conftest.py.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from conftest import write_tree
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from site_builder import markdown
from site_builder.build import build, check
from site_builder.errors import ContentError, Problem
from site_builder.fields import CONTROL
from site_builder.model import MEASURES, QUALIFIERS, STATEMENT_KINDS
from site_builder.parse import (
    event_spec,
    parse_entry,
    parse_page,
    parse_publishers,
    parse_regions,
    parse_site,
)
from site_builder.render import THEMES, render_site
from site_builder.yamlnodes import Map, Node, Scalar, Seq, YamlError, parse_events, parse_yaml

ENTRY = "content/events/2025/2025-03-08-example.md"
# PROPERTY_SCALE=20 runs twenty times the examples (a longer hunt than CI's).
SCALE = float(os.environ.get("PROPERTY_SCALE", "1"))
FIXTURES = Path(__file__).parent / "fixtures" / "entries"
THEME = THEMES / "default"

# Nesting within libyaml's limit of 1,000 levels, deeper than Python's stack would allow a
# recursive reader: both yamlnodes paths once raised RecursionError on these.
DEEP_BLOCK = "".join(" " * i + "k:\n" for i in range(600))
DEEP_FLOW = "[" * 999 + "]" * 999


def scaled(examples: int) -> int:
    return max(1, round(examples * SCALE))


# --- text strategies -------------------------------------------------------------------------

# Characters with a meaning in YAML, Markdown or HTML, and the odd ones: controls, NUL, BOM, tab,
# the line breaks libyaml knows and str.split does not, bidi overrides, zero-width joiners.
SPECIAL = [
    *"-:#[]{}&*!|>'\"%@`?,.~\\<=/() \t\n\r",
    *("\x00", "\x01", "\x0b", "\x1f", "\x7f", "\x85", "\xa0", "\ufeff", "\ufffe"),  # controls, NEL, NBSP, BOM
    *("\u2028", "\u2029", "\u202e", "\u2066", "\u200d", "é", "ع"),  # LS, PS, bidi, ZWJ, letters
]
# Any character a UTF-8 file can hold (no surrogates: the loader reports such a file as not UTF-8).
characters = st.characters(codec="utf-8")
any_text = st.text(st.one_of(st.sampled_from(SPECIAL), characters), max_size=120)

TRICKY_SCALARS = [
    *("no", "on", "yes", "off", "~", "null", "0755", "0x1F", "1.10", "1e3", "22:22", ".inf", "-1", "1,000"),
    *("!!python/object:os.system", "!!python/object/apply:os.system ['true']", "!!binary aGk=", "!local x", "!"),
    *("&a x", "*a", "<<: *a", "? k", ": v", "a: b: c", "-", "---", "...", "%TAG ! tag:x,2000:", "@at", "`bt"),
    *("'it''s'", '"dq \\u00e9 \\t \\x41"', '"\\q bad escape"', '"unterminated', "'unterminated"),
    *("a #comment", "a# not a comment", "#", "|", ">-", "|+", "a\tb", "\t"),
    *("[a, b]", "[a, [b, {c: d}]]", "{a: b, a: c}", "[", "{", "}", "]"),
    *("2025-03-08", "2025-02-30", "2025-03-07/2025-03-08", "2025-03?", "2025-03~", "2025-XX"),
    *("https://example.org/x", "javascript:alert(1)", "TODO", "killed", "more-than", "sohr", "latakia"),
    *("١٢", "\u202eevil", "\u2028", "\x85", "\ufeff", "\x00", "سوريا"),
]
KEYS = sorted(
    {*event_spec(), "measure", "count", "low", "high", "qualifier", "verbatim", "scope", "source", "speaker"}
    | {"text", "kind", "id", "name", "parent", "url", "grade", "note", "base_url", "description", "measures"}
    | {"language", "order", "<<", "? k", "a b", "", "title:", "'quoted'", '"quoted"', "-", "ü", "[a]", "&a k"}
)
words = st.from_regex(r"[a-z0-9][a-z0-9 -]{0,10}", fullmatch=True)
scalars = st.one_of(st.sampled_from(TRICKY_SCALARS), words, st.text(st.sampled_from(SPECIAL), max_size=6))
inline_values = st.one_of(
    scalars,
    scalars.map(lambda s: f"'{s}'"),
    scalars.map(lambda s: f'"{s}"'),
    st.lists(scalars, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.lists(st.tuples(st.sampled_from(KEYS), scalars), max_size=3).map(
        lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
    ),
    scalars.map(lambda s: "&a " + s),
    scalars.map(lambda s: "!!str " + s),
)


@st.composite
def yaml_block(draw: st.DrawFn, indent: int = 0, depth: int = 0) -> str:
    """A block mapping or list at `indent`, built from tricky parts (and sometimes broken)."""
    pad = " " * indent
    if draw(st.integers(0, 15)) == 0:
        pad = draw(st.sampled_from(["\t", " \t", pad + " "])) + pad
    is_list = draw(st.booleans())
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        head = pad + "-" if is_list else pad + draw(st.sampled_from(KEYS)) + ":"
        kind = draw(st.integers(0, 9))
        if kind < 3 and depth < 4:
            step = draw(st.sampled_from([0, 1, 2, 4])) if not is_list else draw(st.sampled_from([1, 2, 4]))
            nested = draw(yaml_block(indent + step, depth + 1))
            if is_list and draw(st.booleans()):
                lines.append(head + " " + nested.lstrip(" \t"))  # `- key: value` on the dash's line
            else:
                lines += [head, nested]
        elif kind == 3:
            header = draw(st.sampled_from(["|", "|-", ">", ">-", "|+", "|2", ">+ # c"]))
            body_pad = " " * (indent + draw(st.sampled_from([0, 1, 2, 3])))
            body = draw(st.lists(st.one_of(words, scalars, st.just("")), min_size=1, max_size=3))
            lines += [f"{head} {header}", *(body_pad + line if line else "" for line in body)]
        else:
            lines.append(f"{head} {draw(inline_values)}")
        extra = draw(st.integers(0, 20))
        if extra == 0:
            lines.append(pad + "# a comment")
        elif extra == 1:
            lines.append("")
        elif extra == 2:
            lines.append(draw(st.sampled_from(["---", "...", "--- x", "%YAML 1.1"])))
    return "\n".join(lines)


# The plain style of the content format, which yamlnodes' line reader takes, with the near misses
# it must leave to the event path: values with `:`, ` #`, quotes, trailing blanks, odd indents.
plain_keys = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,6}", fullmatch=True)
plain_values = st.one_of(
    words,
    st.sampled_from(["2025-03-08", "https://example.org/a?b=c#d", "a:b", "a #c", "a#b", "1,000", "x ", "é ü", "~"]),
    st.text(st.sampled_from(list("ab :#-'\",[]{}|>!&*?%@`.~")), min_size=1, max_size=6),
)
lines_values = st.one_of(
    plain_values,
    plain_values.map(lambda v: f"'{v}'"),
    plain_values.map(lambda v: f'"{v}"'),
    st.lists(words, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.tuples(plain_values, st.sampled_from(["", " # c", "  #c", "#c", " ", "  "])).map("".join),
)


@st.composite
def lines_block(draw: st.DrawFn, indent: int = 0, depth: int = 0) -> str:
    """Block YAML in the content format's style (mostly what the line reader reads)."""
    pad = " " * indent
    is_list = draw(st.integers(0, 3)) == 0
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        head = pad + "-" if is_list else pad + draw(plain_keys) + ":"
        kind = draw(st.integers(0, 7))
        if kind < 2 and depth < 3:
            step = draw(st.sampled_from([2, 2, 2, 0, 1, 4] if not is_list else [2, 2, 1, 4]))
            nested = draw(lines_block(indent + step, depth + 1))
            if is_list and draw(st.booleans()):
                lines.append(head + " " + nested.lstrip(" "))
            else:
                lines += [head, nested]
        elif kind == 2:
            header = draw(st.sampled_from(["|", "|-", ">", ">-", "> # c", "|+"]))
            step = draw(st.sampled_from([2, 2, 4, 0]))
            body = draw(
                st.lists(st.one_of(words, st.sampled_from(["", " ", "  indented", "a: b"])), min_size=1, max_size=4)
            )
            lines += [f"{head} {header}", *(" " * (indent + step) + line if line else "" for line in body)]
        else:
            lines.append(f"{head} {draw(lines_values)}")
        extra = draw(st.integers(0, 12))
        if extra == 0:
            lines.append(pad + draw(st.sampled_from(["# c", "#", ""])))
        elif extra == 1:
            lines.append(draw(st.sampled_from(["", " ", pad + "  # deeper comment"])))
    return "\n".join(lines)


yaml_texts = st.one_of(lines_block(), yaml_block(), any_text, inline_values).map(lambda t: t + "\n")

# Markdown syntax, and the link syntax that tries to smuggle a script in.
MARKDOWN_PARTS = [
    *("# ", "## ", "> ", "- ", "1. ", "2) ", "* ", "+ ", "---", "***", "===", "```", "~~~", "    "),
    *("\n", "\n\n", "  \n", "*", "_", "**", "`", "\\", "&amp;", "&#106;", "&#x3C;", "&lt;", "&", "<", ">"),
    *("[x]", "[x]: ", "[x](", ")", "](", "![i](", "<http://a.example>", "<mailto:a@b.example>", "[x](folder/)"),
    *("<javascript:alert(1)>", "[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))"),
    *("[x](<javascript:alert(1)>)", "[x](&#106;avascript:alert(1))", "[x](data:text/html;base64,PHNjcmlwdD4=)"),
    *(
        "[x](vbscript:msgbox(1))",
        "[x](//evil.example/)",
        "[x]: javascript:alert(1)\n\n[x]",
        "![x](javascript:alert(1))",
    ),
    '[x](http://a.example/ "t\\" onmouseover=\\"alert(1)")',
    '```"><script>alert(1)</script>\ncode\n```',
    *('<a href="javascript:alert(1)">x</a>', "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<!-- c -->"),
    *("word", "two words", "\u2028", "\x00", "\t", "\r\n"),
]
# Paragraphs of words with a near miss here and there: what markdown's plain-paragraph path sees.
paragraph_lines = st.lists(
    st.one_of(words, words, st.sampled_from(MARKDOWN_PARTS), st.text(st.sampled_from(SPECIAL), max_size=2)),
    min_size=1,
    max_size=4,
).map("".join)
paragraphs = st.lists(
    st.tuples(paragraph_lines, st.sampled_from(["\n", "\n", "\n\n", "\n\n\n", " \n", "\n \n"])).map("".join),
    max_size=6,
).map("".join)
markdown_texts = st.one_of(
    st.lists(st.sampled_from(MARKDOWN_PARTS) | words, max_size=14).map("".join),
    paragraphs,
    any_text,
)


# --- 1. parsers ------------------------------------------------------------------------------


def line_count(text: str) -> int:
    """Lines in the file by the most generous count (libyaml also breaks lines at CR, NEL, LS, PS)."""
    return max(text.count("\n"), len(text.splitlines())) + 1


def assert_located(problems: list[Problem], path: str, text: str) -> None:
    """Each problem names the file and a line in it (a parser always knows the line: 0, "the whole
    file", is for the loader's problems, such as a missing file)."""
    limit = line_count(text)
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.path == path
        assert problem.message
        assert 1 <= problem.line <= limit, problem
        assert problem.col >= 0, problem


def nodes(node: Node | None) -> list[Node]:
    """Every node of a tree, keys included, in document order (without recursion: trees go deep)."""
    found: list[Node] = []
    stack = [node] if node is not None else []
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, Seq):
            stack.extend(reversed(node.items))
        elif isinstance(node, Map):
            stack.extend(n for pair in reversed(node.items) for n in reversed(pair))
    return found


def yaml_outcome(parse: Callable[[str], Node | None], text: str) -> tuple[Any, ...]:
    """The tree, flattened (`==` on a deep tree would recurse), or the error."""
    try:
        node = parse(text)
    except YamlError as exc:
        return ("error", exc.line, exc.col, exc.message)
    shape = [
        (n.value, n.line, n.col, n.plain)
        if isinstance(n, Scalar)
        else (type(n).__name__, n.line, n.col, len(n.items), getattr(n, "keys", None))
        for n in nodes(node)
    ]
    return ("tree", shape)


@example(DEEP_BLOCK)
@example(DEEP_FLOW)
@settings(max_examples=scaled(300))
@given(yaml_texts)
def test_parse_yaml_gives_a_tree_or_a_yaml_error(text: str) -> None:
    limit = line_count(text)
    try:
        tree = parse_yaml(text)
    except YamlError as exc:
        assert 1 <= exc.line <= limit and exc.col >= 0
        return
    for node in nodes(tree):
        assert 1 <= node.line <= limit and node.col >= 1, node
        if isinstance(node, Scalar):
            assert isinstance(node.value, str)
        if isinstance(node, Map):
            assert node.keys == {key.value: i for i, (key, _) in enumerate(node.items)}


@example(DEEP_BLOCK)
@settings(max_examples=scaled(300))
@given(st.one_of(lines_block().map(lambda t: t + "\n"), yaml_texts))
def test_fast_and_strict_yaml_paths_agree(text: str) -> None:
    """The line reader gives the event path's tree, or leaves the text (and its error) to it."""
    assert yaml_outcome(parse_yaml, text) == yaml_outcome(parse_events, text)


def valid_entries() -> list[str]:
    """The whole entry files of tests/fixtures/entries/valid.md (between a case's first two `.`)."""
    lines = (FIXTURES / "valid.md").read_text(encoding="utf-8").splitlines(keepends=True)
    dots = [number for number, line in enumerate(lines) if line.rstrip("\n") == "."]
    return ["".join(lines[dots[i] + 1 : dots[i + 1]]) for i in range(0, len(dots) - 2, 3)]


VALID = valid_entries()


@st.composite
def mutated_entries(draw: st.DrawFn) -> str:
    """A valid entry with a few characters or lines inserted, deleted, replaced or moved."""
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        at = draw(st.integers(0, len(text)))
        row = draw(st.integers(0, len(lines) - 1))
        op = draw(
            st.sampled_from(["insert", "delete", "replace", "dup-line", "del-line", "swap", "new-line", "indent"])
        )
        if op == "insert":
            text = text[:at] + draw(st.text(st.sampled_from(SPECIAL), min_size=1, max_size=3)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        elif op == "replace":
            text = text[:at] + draw(st.sampled_from(SPECIAL)) + text[at + 1 :]
        else:
            if op == "dup-line":
                lines.insert(row, lines[row])
            elif op == "del-line":
                del lines[row]
            elif op == "swap":
                other = draw(st.integers(0, len(lines) - 1))
                lines[row], lines[other] = lines[other], lines[row]
            elif op == "new-line":
                lines.insert(row, draw(st.sampled_from(KEYS)) + ": " + draw(inline_values))
            else:
                lines[row] = draw(st.sampled_from([" ", "  ", "\t", "- "])) + lines[row]
            text = "\n".join(lines)
    return text


entry_texts = st.one_of(
    any_text,
    st.tuples(yaml_block(), markdown_texts).map(lambda p: f"---\n{p[0]}\n---\n{p[1]}"),
    mutated_entries(),
)


def assert_entry(text: str, path: str = ENTRY) -> None:
    event, problems = parse_entry(text, path)
    assert_located(problems, path, text)
    if event is not None and not problems:  # else a record may lack what a broken item held
        assert event.title and event.regions and event.sources


@example(f"---\n{DEEP_BLOCK}---\n")
@example(f"---\ntitle: {DEEP_FLOW[1:-1]}\n---\n")
@settings(max_examples=scaled(300))
@given(entry_texts)
def test_parse_entry_returns_records_and_located_problems(text: str) -> None:
    assert_entry(text)


@settings(max_examples=scaled(200))
@given(yaml_texts, st.sampled_from(["regions", "publishers", "site", "page"]))
def test_registries_site_and_pages_return_located_problems(text: str, which: str) -> None:
    if which == "page":
        path = "content/pages/about.md"
        whole = f"---\n{text}---\n{text}"
        assert_located(parse_page(whole, path)[1], path, whole)
        return
    path = f"content/{which}.yaml"
    parse = {"regions": parse_regions, "publishers": parse_publishers, "site": parse_site}[which]
    _, problems = parse(text, path)
    assert_located(problems, path, text)


@settings(max_examples=scaled(300))
@given(markdown_texts)
def test_markdown_fast_path_renders_what_the_parser_renders(text: str) -> None:
    """render_body shows plain paragraphs without the parser: the HTML and words must not change."""
    env: dict[str, Any] = {}
    tokens = markdown._md.parse(text, env)
    full = markdown._md.renderer.render(tokens, markdown._md.options, env)
    rendered = markdown.render_body(text)
    assert rendered.html == full
    assert rendered.text == markdown._plain_text(tokens)
    assert list(rendered.unsafe) == markdown.unsafe_links(text)


# --- 2. validator ----------------------------------------------------------------------------

REGION_IDS = ["a", "b", "c", "d"]
BAD_IDS = ["unknown", "Bad", "", "~", "a b"]


@st.composite
def content_trees(draw: st.DrawFn) -> dict[str, str]:
    """A small archive, mostly valid: regions with random parents (cycles, unknown ones), entries
    citing known and unknown ids, ids colliding, and now and then a field or a file broken."""

    def pick(good: st.SearchStrategy[str], bad: st.SearchStrategy[str]) -> str:
        return draw(bad) if draw(st.integers(0, 7)) == 0 else draw(good)

    ids = st.sampled_from(REGION_IDS)
    odd_ids = st.sampled_from(BAD_IDS)
    some_ids = mostly(ids, odd_ids)
    publishers = mostly(st.sampled_from(["m", "n"]), odd_ids)
    aliases = mostly(st.sampled_from(["e0", "e1", "old"]), odd_ids)  # e0, e1: other entries' ids
    files: dict[str, str] = {}
    site = "title: T\ndescription: D\nbase_url: https://example.org/t/\n"
    files["site.yaml"] = pick(st.just(site), st.one_of(yaml_texts, mutated(site)))
    regions = []
    for region in draw(mostly(st.lists(ids, min_size=1, max_size=4, unique=True), st.lists(ids, max_size=5))):
        parent = draw(mostly(st.none(), st.one_of(ids, odd_ids)))
        regions.append(f"- id: {region}\n  name: {draw(words)}\n" + (f"  parent: {parent}\n" if parent else ""))
    files["regions.yaml"] = pick(st.just("".join(regions)), yaml_texts)
    if draw(st.booleans()):
        files["sources.yaml"] = pick(st.just("- id: m\n  name: M\n- id: n\n  name: N\n"), yaml_texts)
    for n in range(draw(st.integers(0, 3))):
        name = pick(st.sampled_from(["2025-03-08-x", f"e{n}", "e0"]), st.sampled_from(["Bad Name", "x.y", "-"]))
        fields = {
            "title": pick(words, scalars),
            "date": pick(st.sampled_from(["2025-03-08", "2025-03", "2025-03-07/2025-03-08"]), scalars),
            "regions": "[" + ", ".join(draw(st.lists(some_ids, min_size=1, max_size=3))) + "]",
            "sources": "\n" + "".join(f"  - id: {s}\n" for s in draw(st.lists(publishers, min_size=1, max_size=2))),
            "tags": "[" + ", ".join(draw(st.lists(some_ids, max_size=2))) + "]",
            "aliases": "[" + ", ".join(draw(st.lists(aliases, max_size=2))) + "]",
            "status": pick(st.sampled_from(["published", "draft", "disputed"]), st.just("nope")),
            "tallies": f"\n  - measure: killed\n    count: {pick(st.just('1'), scalars)}\n"
            f"    source: {draw(publishers)}\n",
        }
        optional = draw(st.lists(st.sampled_from(["tags", "aliases", "status", "tallies"]), unique=True))
        chosen = ["title", "date", "regions", "sources", *optional]
        if draw(st.integers(0, 7)) == 0:
            chosen.remove(draw(st.sampled_from(chosen)))
        front = "".join(f"{key}: {fields[key]}".rstrip("\n") + "\n" for key in chosen)
        files[f"events/2025/{name}.md"] = f"---\n{front}---\n{pick(st.just('Narrative.'), markdown_texts)}"
    if draw(st.booleans()):
        slug = draw(st.sampled_from(["about", "events", "index", "e0", "2025-03-08-x"]))
        files[f"pages/{slug}.md"] = f"---\ntitle: {draw(words)}\n---\n{pick(st.just('Text.'), markdown_texts)}"
    return files


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`good` seven times in eight."""
    return st.integers(0, 7).flatmap(lambda n: bad if n == 0 else good)


def mutated(text: str) -> st.SearchStrategy[str]:
    return st.tuples(st.integers(0, len(text)), st.text(st.sampled_from(SPECIAL), max_size=3)).map(
        lambda p: text[: p[0]] + p[1] + text[p[0] + 1 :]
    )


@settings(max_examples=scaled(60), suppress_health_check=[HealthCheck.too_slow])
@given(content_trees())
def test_check_raises_only_content_error(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = write_tree(Path(folder) / "content", files)
        try:
            archive = check(root)
        except ContentError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert problem.path.startswith(root.as_posix()), problem
                assert problem.line >= 0
            return
    # What the validator lets through is consistent: the renderer relies on it.
    regions = {r.id: r for r in archive.regions}
    publishers = {p.id for p in archive.publishers}
    assert len(regions) == len(archive.regions)
    for region in archive.regions:
        seen = {region.id}
        parent = region.parent
        while parent is not None:
            assert parent in regions and parent not in seen, region
            seen.add(parent)
            parent = regions[parent].parent
    urls = [e.url for e in archive.events] + [f"events/{a}/" for e in archive.events for a in e.aliases]
    urls += [p.url for p in archive.pages]
    assert len(urls) == len(set(urls))
    for event in archive.events:
        assert event.status != "draft" and event.regions and event.sources
        assert set(event.regions) <= set(regions)
        assert all(s.name or s.id in publishers for s in event.sources)
        cited = {s.id for s in event.sources}
        assert all(item.source in cited for item in (*event.tallies, *event.statements) if item.source)


# --- 3. renderer -----------------------------------------------------------------------------

# Payloads that try to become markup in text, in attributes, in URLs and in the theme's scripts.
HOSTILE = [
    *("<script>alert(1)</script>", "</script><script>alert(1)</script>", "<img src=x onerror=alert(1)>"),
    *("<svg onload=alert(1)>", '"><svg/onload=alert(1)>', "'><a href=javascript:alert(1)>x</a>"),
    *('" onfocus="alert(1)" autofocus x="', "' onmouseover='alert(1)' x='"),
    *("javascript:alert(1)", "JaVaScRiPt:alert(1)", "vbscript:msgbox(1)"),
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    *("&lt;script&gt;", "&#60;script&#62;", "&#x6a;avascript:", "&amp;", "&"),
    *("{{ 7*7 }}", "{% raw %}", "{0}{date}", "${7*7}"),  # template and format syntax
    *("<!--", "-->", "<![CDATA[", "]]>", "<style>*{}</style>", "</textarea></title></noscript>"),
    *('<iframe src="//evil.example/">', '<base href="//evil.example/">', "<form action=javascript:alert(1)><button>x"),
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)">',
    *("[x](javascript:alert(1))", "![x](javascript:alert(1))", "<javascript:alert(1)>"),
    *("`", '"', "'", "\u2028", "\u2029", "\u202e", "\x00", "\r", "\ufeff"),
]
hostile = st.one_of(
    st.sampled_from(HOSTILE),
    st.lists(st.sampled_from(HOSTILE) | words, min_size=1, max_size=4).map(" ".join),
    st.text(st.sampled_from(SPECIAL) | characters, min_size=1, max_size=20),
)
# Control characters are refused at their line (fields.CONTROL; the hostile corpus and the
# parser properties above test that): an archive that must build is written without them.
allowed = hostile.map(lambda s: CONTROL.sub("", s)).map(lambda s: s if s.strip() else s + "x")  # never empty
hostile_markdown = st.one_of(markdown_texts, st.lists(st.sampled_from(HOSTILE) | words, max_size=6).map("\n".join))
# The parser refuses unsafe links (a build never renders them): test_markdown_makes_only_markdown
# renders those.
safe_markdown = hostile_markdown.map(lambda s: CONTROL.sub("", s)).filter(lambda text: not markdown.unsafe_links(text))


def quote(text: str) -> str:
    """A YAML double-quoted scalar of any text: printable ASCII as is, the rest escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


@dataclass(frozen=True)
class Texts:
    """Every text field of the synthetic archive below (hostile, or plain words)."""

    site_title: str
    site_description: str
    license: str
    region_names: tuple[str, str, str]
    publisher: tuple[str, str, str]  # name, type, description
    publisher_url: str
    title: str
    summary: str
    note: str
    verbatim: str
    scope: str
    statement: tuple[str, str, str, str]  # speaker, role, organization, text
    source: tuple[str, str]  # name, title
    source_url: str
    archive_url: str
    body: str
    page: tuple[str, str, str]  # title, description, body
    measures: tuple[str, ...] = field(default=())
    kind: str = "quote"
    qualifier: str = "exact"


def benign(texts: Texts) -> Texts:
    """The same archive with each hostile text replaced by plain words (Markdown by a paragraph)."""
    n = iter(range(1000))

    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(plain(v) for v in value)
        return f"plain words {next(n)}"

    changed = {
        name: plain(getattr(texts, name))
        for name in (
            *("site_title", "site_description", "license", "region_names", "publisher", "title", "summary"),
            *("note", "verbatim", "scope", "statement", "source"),
        )
    }
    urls = {name: f"https://example.org/plain/{next(n)}" for name in ("publisher_url", "source_url", "archive_url")}
    bodies = {"body": "Plain words.\n" if texts.body.strip() else texts.body}
    page = texts.page
    bodies["page"] = (*plain(page[:2]), "Plain words.\n" if page[2].strip() else page[2])
    return replace(texts, **changed, **urls, **bodies)


@st.composite
def hostile_texts(draw: st.DrawFn) -> Texts:
    """Hostile text in every field, from a pool of a few texts: a failing example then shrinks in
    a few steps (each renders the site twice)."""
    pool = draw(st.lists(allowed, min_size=1, max_size=4))

    def pick() -> str:
        return pool[draw(st.integers(0, len(pool) - 1))]

    def url() -> str:
        return f"{draw(st.sampled_from(['https', 'http', 'HTTPS']))}://example.org/{''.join(pick().split())}"

    return Texts(
        site_title=pick(),
        site_description=pick(),
        license=pick(),
        region_names=(pick(), pick(), pick()),
        publisher=(pick(), pick(), pick()),
        publisher_url=url(),
        title=pick(),
        summary=pick(),
        note=pick(),
        verbatim=pick(),
        scope=pick(),
        statement=(pick(), pick(), pick(), pick()),
        source=(pick(), pick()),
        source_url=url(),
        archive_url=url(),
        body=draw(safe_markdown),
        page=(pick(), pick(), draw(safe_markdown)),
        measures=tuple(draw(st.lists(st.sampled_from(["killed", "x-y", "new-measure"]), max_size=2, unique=True))),
        kind=draw(st.sampled_from(STATEMENT_KINDS)),
        qualifier=draw(st.sampled_from(QUALIFIERS)),
    )


PLAIN = Texts(
    *("w", "w", "w"),
    region_names=("n", "s", "a"),
    publisher=("p", "t", "d"),
    publisher_url="https://example.org/p",
    **dict.fromkeys(("title", "summary", "note", "verbatim", "scope"), "w"),
    statement=("s", "r", "o", "t"),
    source=("n", "t"),
    source_url="https://example.org/s",
    archive_url="https://example.org/a",
    body="Body.\n",
    page=("t", "d", "Body.\n"),
)


def archive_files(t: Texts) -> dict[str, str]:
    """A valid synthetic archive (not real events) with the texts `t` in every text field."""
    q = quote
    measures = f"measures: [{', '.join(t.measures)}]\n" if t.measures else ""
    names = t.region_names
    extra_measure = next((m for m in t.measures if m not in MEASURES), "killed")
    return {
        "site.yaml": f"title: {q(t.site_title)}\ndescription: {q(t.site_description)}\n"
        f"base_url: https://example.org/archive/\nlicense: {q(t.license)}\n{measures}",
        "regions.yaml": f"- id: north\n  name: {q(names[0])}\n"
        f"- id: hills\n  name: {{en: {q(names[1])}, ar: {q(names[2])}}}\n  parent: north\n",
        "sources.yaml": f"- id: monitor\n  name: {q(t.publisher[0])}\n  type: {q(t.publisher[1])}\n"
        f"  description: {q(t.publisher[2])}\n  url: {q(t.publisher_url)}\n",
        "events/2025/2025-03-07-first.md": "---\n"
        f"title: {q(t.title)}\nsummary: {q(t.summary)}\ndate: 2025-03-07\nregions: [hills]\n"
        f"tags: [tag-one]\nstatus: disputed\naliases: [old-first]\n"
        f"confidence:\n  grade: fair\n  note: {q(t.note)}\n"
        "tallies:\n"
        f"  - measure: killed\n    count: 12\n    qualifier: {t.qualifier}\n    verbatim: {q(t.verbatim)}\n"
        f"    scope: {q(t.scope)}\n    as_of: 2025-03-07\n    source: monitor\n"
        f"  - measure: {extra_measure}\n    group: civilians\n    low: 1\n    high: 3\n    source: report\n"
        "statements:\n"
        f"  - speaker: {q(t.statement[0])}\n    role: {q(t.statement[1])}\n"
        f"    organization: {q(t.statement[2])}\n    text: {q(t.statement[3])}\n"
        f"    kind: {t.kind}\n    date: 2025-03-08\n    source: monitor\n"
        "sources:\n  - id: monitor\n"
        f"  - id: report\n    name: {q(t.source[0])}\n    title: {q(t.source[1])}\n"
        f"    url: {q(t.source_url)}\n    archive_url: {q(t.archive_url)}\n    published: 2025-03-08\n"
        f"---\n{t.body}",
        "events/2025/2025-03-08-second.md": "---\n"
        f"title: {q(t.summary)}\ndate: 2025-03\nregions: [north]\nsources:\n  - id: monitor\n---\n",
        "pages/about.md": f"---\ntitle: {q(t.page[0])}\ndescription: {q(t.page[1])}\n---\n{t.page[2]}",
    }


# What Markdown may add to a page beyond the theme (CommonMark, raw HTML and images off).
MARKDOWN_MARKUP = {
    (tag, None)
    for tag in (
        *("p", "em", "strong", "code", "pre", "a", "ul", "ol", "li", "blockquote", "hr", "br"),
        *("h2", "h3", "h4", "h5", "h6"),
    )
} | {("a", "href"), ("a", "rel"), ("a", "title"), ("ol", "start"), ("code", "class")}
SCRIPT_SRC = re.compile(r"(?:\.\./)*(?:assets|search-offline|pagefind)/[\w./-]+\.js\Z")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "srcset", "xlink:href", "background"}
SAFE_URL_SCHEMES = {"http", "https", "mailto"}


def browser_scheme(url: str) -> str:
    """The scheme a browser reads: C0 controls and spaces trimmed, tabs and line breaks removed."""
    url = re.sub("[\t\n\r]", "", url.strip("".join(map(chr, range(0x21)))))
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", url)
    return match.group(1).lower() if match else ""


class Markup(HTMLParser):
    """The (element, attribute) pairs of a page, each element also as (element, None)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: set[tuple[str, str | None]] = set()
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.pairs.add((tag, None))
        self.pairs.update((tag, name) for name, _ in attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}>")
            if name in URL_ATTRIBUTES and browser_scheme(value or "") not in SAFE_URL_SCHEMES | {""}:
                self.problems.append(f"<{tag} {name}={value!r}>")
        given = dict(attrs)
        if tag == "meta" and (given.get("http-equiv") or "").lower() == "refresh":
            target = re.split(r"url\s*=", given.get("content") or "", maxsplit=1, flags=re.I)[-1]
            if browser_scheme(target.strip("'\"")) not in SAFE_URL_SCHEMES | {""}:
                self.problems.append(f"<meta http-equiv=refresh content={given.get('content')!r}>")
        if tag == "script":
            self.in_script = True
            src = given.get("src") or ""
            if not SCRIPT_SRC.match(src):
                self.problems.append(f"<script src={src!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.problems.append(f"inline script {data[:40]!r}")


def page_markup(html: str) -> Markup:
    parser = Markup()
    parser.feed(html)
    parser.close()
    return parser


def render_pages(files: dict[str, str]) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as folder:
        root = write_tree(Path(folder) / "content", files)
        archive = check(root)
    return {page.path: page.content.decode("utf-8") for page in render_site(archive, THEME)}


@cache
def theme_markup(plain: Texts) -> frozenset[tuple[str, str | None]]:
    """What the theme itself puts in the pages of an archive with plain words (shrinking asks again)."""
    pairs, problems = site_markup(render_pages(archive_files(plain)))
    assert not problems
    return frozenset(pairs)


def site_markup(pages: dict[str, str]) -> tuple[set[tuple[str, str | None]], list[str]]:
    pairs: set[tuple[str, str | None]] = set()
    problems: list[str] = []
    for path, html in pages.items():
        markup = page_markup(html)
        pairs |= markup.pairs
        problems += [f"{path}: {p}" for p in markup.problems]
    return pairs, problems


@settings(max_examples=scaled(300))
@given(hostile_markdown)
def test_markdown_makes_only_markdown(text: str) -> None:
    markup = page_markup(markdown.render_markdown(text))
    assert not markup.problems
    assert markup.pairs <= MARKDOWN_MARKUP


@settings(
    max_examples=scaled(30),
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hostile_texts())
def test_hostile_text_stays_text(texts: Texts) -> None:
    pages = render_pages(archive_files(texts))
    theme = theme_markup(benign(texts))
    pairs, problems = site_markup(pages)
    assert not problems
    assert pairs - theme - MARKDOWN_MARKUP == set()
    # The title is shown as written (trimmed, as the parser reads it).
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", pages["events/2025-03-07-first/index.html"], re.S)
    assert heading is not None
    assert unescape(heading.group(1)) == texts.title.strip()


@settings(
    max_examples=scaled(8),
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(texts=hostile_texts())
def test_hostile_archive_builds_a_clean_site(texts: Texts, example_site: Path) -> None:
    """The whole build (redirects, data, feeds, search indexes) with hostile text: its pages stay
    within the theme's markup, its feeds and data files still parse, its offline index is inert."""
    theme = site_markup({str(p): p.read_text(encoding="utf-8") for p in example_site.rglob("*.html")})[0]
    theme |= theme_markup(benign(texts))
    with tempfile.TemporaryDirectory() as folder:
        root = write_tree(Path(folder) / "content", archive_files(texts))
        output = Path(folder) / "output"
        build(root, output, cache_dir=None)
        pages = {str(p.relative_to(output)): p.read_text(encoding="utf-8") for p in output.rglob("*.html")}
        for path in [*output.rglob("*.atom"), output / "sitemap.xml"]:
            ElementTree.fromstring(path.read_bytes())  # well-formed: no control characters left in
        for path in (output / "data").rglob("*.json"):
            json.loads(path.read_bytes())
        for path in (output / "search-offline").rglob("*.js"):
            data = path.read_bytes()  # loaded with <script src>: plain ASCII, no markup to end a script
            assert data.isascii() and b"<" not in data, path
    pairs, problems = site_markup(pages)
    assert not problems
    assert pairs - theme - MARKDOWN_MARKUP == set()


def test_the_synthetic_archive_is_valid() -> None:
    """The archive the renderer properties fill in builds with plain words (else they test nothing)."""
    pages = render_pages(archive_files(benign(PLAIN)))
    assert {"events/2025-03-07-first/index.html", "events/old-first/index.html", "about/index.html"} <= set(pages)
