"""yamlnodes.py: strict YAML into a tree of strings, lists and mappings, with line numbers.

parse_yaml reads the common subset line by line and leaves the rest to parse_events (libyaml's
events): every case here goes through `read` or `error`, which check that both give the same.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder import yamlnodes
from site_builder.parse import split_front_matter
from site_builder.yamlnodes import Map, Node, Scalar, Seq, YamlError, parse_events, parse_yaml

ROOT = Path(__file__).parent.parent


def outcome(parse: Callable[[str], Node | None], text: str) -> tuple[object, ...]:
    """('ok', tree) or ('error', line, col, message)."""
    try:
        return ("ok", parse(text))
    except YamlError as exc:
        return ("error", exc.line, exc.col, exc.message)


def read(text: str) -> Node | None:
    """parse_yaml(text), checked against the event path."""
    assert outcome(parse_yaml, text) == outcome(parse_events, text)
    return parse_yaml(text)


def parse_map(text: str) -> Map:
    node = read(text)
    assert isinstance(node, Map)
    return node


def value(node: Map, key: str) -> Scalar:
    found = node.get(key)
    assert isinstance(found, Scalar)
    return found


def error(text: str) -> tuple[int, int, str]:
    with pytest.raises(YamlError) as info:
        parse_yaml(text)
    assert outcome(parse_events, text) == ("error", info.value.line, info.value.col, info.value.message)
    return info.value.line, info.value.col, info.value.message


# --- scalars stay strings --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "no",
        "yes",
        "on",
        "off",
        "true",
        "False",
        "1.10",
        "1e3",
        "0x1F",
        "0o17",
        "22:22",
        "2025-03-08",
        ".inf",
        ".nan",
        "-0",
    ],
)
def test_plain_scalars_are_the_text_as_written(text: str) -> None:
    assert value(parse_map(f"key: {text}\n"), "key") == Scalar(text, 1, 6, plain=True)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ('key: "no"\n', Scalar("no", 1, 6, plain=False)),
        ("key: '1.10'\n", Scalar("1.10", 1, 6, plain=False)),
        ("key: |\n  two\n  lines\n", Scalar("two\nlines\n", 1, 6, plain=False)),
        ("key: >-\n  folded\n  text\n", Scalar("folded text", 1, 6, plain=False)),
        ('key: "a\\tb"\n', Scalar("a\tb", 1, 6, plain=False)),
        ("key:   spaced out  \n", Scalar("spaced out", 1, 8, plain=True)),
    ],
)
def test_quoted_and_block_scalars_are_not_plain(yaml_text: str, expected: Scalar) -> None:
    assert value(parse_map(yaml_text), "key") == expected


@pytest.mark.parametrize(
    ("yaml_text", "is_null"),
    [
        ("key:\n", True),
        ("key: ~\n", True),
        ("key: null\n", True),
        ("key: Null\n", True),
        ("key: NULL\n", True),
        ('key: ""\n', False),
        ("key: ''\n", False),
        ('key: "null"\n', False),
        ("key: '~'\n", False),
        ("key: nil\n", False),
        ("key: none\n", False),
    ],
)
def test_null_is_only_an_unquoted_empty_tilde_or_null(yaml_text: str, is_null: bool) -> None:
    assert value(parse_map(yaml_text), "key").is_null is is_null


def test_empty_value_is_an_empty_plain_scalar() -> None:
    assert value(parse_map("key:\nother: x\n"), "key") == Scalar("", 1, 5, plain=True)


# --- structure and positions -----------------------------------------------------------------


def test_tree_with_lines_and_columns() -> None:
    node = read("title: T\nregions:\n  - latakia\n  - tartous\nsources: [{id: sohr}]\n")
    assert node == Map(
        (
            (Scalar("title", 1, 1, True), Scalar("T", 1, 8, True)),
            (Scalar("regions", 2, 1, True), Seq((Scalar("latakia", 3, 5, True), Scalar("tartous", 4, 5, True)), 3, 3)),
            (
                Scalar("sources", 5, 1, True),
                Seq((Map(((Scalar("id", 5, 12, True), Scalar("sohr", 5, 16, True)),), 5, 11),), 5, 10),
            ),
        ),
        1,
        1,
    )


def test_map_get_by_key() -> None:
    node = parse_map("a: 1\nb: [x]\n")
    assert node.get("a") == Scalar("1", 1, 4, True)
    assert isinstance(node.get("b"), Seq)
    assert node.get("c") is None
    assert node.keys == {"a": 0, "b": 1}


def test_keys_keep_their_order() -> None:
    node = parse_map("z: 1\na: 2\nm: 3\n")
    assert [k.value for k, _ in node.items] == ["z", "a", "m"]


def test_top_level_list_and_scalar() -> None:
    assert read("- a\n- b\n") == Seq((Scalar("a", 1, 3, True), Scalar("b", 2, 3, True)), 1, 1)
    assert read("just text\n") == Scalar("just text", 1, 1, True)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "  \n# c\n"])
def test_empty_document_is_none(text: str) -> None:
    assert read(text) is None


def test_explicit_document_markers_are_allowed() -> None:
    assert read("---\na: 1\n...\n") == Map(((Scalar("a", 2, 1, True), Scalar("1", 2, 4, True)),), 2, 1)


def test_non_specific_tag_is_allowed() -> None:
    # `! text` only says "a string", which every scalar already is.
    assert read("- ! text\n") == Seq((Scalar("text", 1, 3, True),), 1, 1)


# --- refused features ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb: 2\na: 3\n", (3, 1, "duplicate key 'a' (first on line 1)")),
        ("a: 1\n\n\nb: 2\nb: 3\n", (5, 1, "duplicate key 'b' (first on line 4)")),
        ("{a: 1, a: 2}\n", (1, 8, "duplicate key 'a' (first on line 1)")),
        ("a:\n  x: 1\n  x: 2\n", (3, 3, "duplicate key 'x' (first on line 2)")),
        ("- id: a\n  id: b\n", (2, 3, "duplicate key 'id' (first on line 1)")),
        ('a: 1\n"a": 2\n', (2, 1, "duplicate key 'a' (first on line 1)")),
        ("a: 1\n'a': 2\n", (2, 1, "duplicate key 'a' (first on line 1)")),
    ],
)
def test_duplicate_keys_are_refused_naming_the_first(text: str, expected: tuple[int, int, str]) -> None:
    assert error(text) == expected


def test_duplicate_keys_in_different_mappings_are_fine() -> None:
    node = read("- id: a\n- id: b\n")
    assert isinstance(node, Seq)
    assert len(node.items) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x 1\n", (1, 4, "YAML anchors (&x) are not allowed")),
        ("- &item\n  id: a\n", (1, 3, "YAML anchors (&item) are not allowed")),
        ("a: &list [1, 2]\n", (1, 4, "YAML anchors (&list) are not allowed")),
        ("a: 1\nb: *x\n", (2, 4, "YAML aliases (*name) are not allowed")),
        ("- *x\n", (1, 3, "YAML aliases (*name) are not allowed")),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", (1, 7, "YAML anchors (&b) are not allowed")),
    ],
)
def test_anchors_and_aliases_are_refused(text: str, expected: tuple[int, int, str]) -> None:
    assert error(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: !!str 1\n", (1, 4, "YAML tags (tag:yaml.org,2002:str) are not allowed")),
        ("a: !!int 1\n", (1, 4, "YAML tags (tag:yaml.org,2002:int) are not allowed")),
        ("a: !!bool yes\n", (1, 4, "YAML tags (tag:yaml.org,2002:bool) are not allowed")),
        ("a: !foo x\n", (1, 4, "YAML tags (!foo) are not allowed")),
        (
            "a: !!python/object/apply:os.system ['true']\n",
            (1, 4, "YAML tags (tag:yaml.org,2002:python/object/apply:os.system) are not allowed"),
        ),
        (
            "a: !!python/object:collections.OrderedDict {}\n",
            (1, 4, "YAML tags (tag:yaml.org,2002:python/object:collections.OrderedDict) are not allowed"),
        ),
        ("a: !!seq [1]\n", (1, 4, "YAML tags (tag:yaml.org,2002:seq) are not allowed")),
        ("!!map {a: 1}\n", (1, 1, "YAML tags (tag:yaml.org,2002:map) are not allowed")),
        ("- !<tag:example.org,2025:x> y\n", (1, 3, "YAML tags (tag:example.org,2025:x) are not allowed")),
        (
            "%TAG !e! tag:example.org,2025:\n---\n- !e!x y\n",
            (3, 3, "YAML tags (tag:example.org,2025:x) are not allowed"),
        ),
    ],
)
def test_explicit_tags_are_refused(text: str, expected: tuple[int, int, str]) -> None:
    assert error(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\n---\nb: 2\n", (2, 0, "only one YAML document is allowed")),
        ("---\na: 1\n---\nb: 2\n", (3, 0, "only one YAML document is allowed")),
        ("a: 1\n...\n---\nb: 2\n", (3, 0, "only one YAML document is allowed")),
    ],
)
def test_more_than_one_document_is_refused(text: str, expected: tuple[int, int, str]) -> None:
    assert error(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[a]: 1\n", (1, 1, "mapping keys must be plain text")),
        ("? {a: 1}\n: 2\n", (1, 3, "mapping keys must be plain text")),
    ],
)
def test_keys_must_be_text(text: str, expected: tuple[int, int, str]) -> None:
    assert error(text) == expected


# --- malformed YAML --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: [1, 2\n", (2, 1, "malformed YAML: did not find expected ',' or ']'")),
        ("a: b: c\n", (1, 5, "malformed YAML: mapping values are not allowed in this context")),
        ("a:\n  b: 1\n c: 2\n", (3, 2, "malformed YAML: did not find expected key")),
        ('a: "open\n', (2, 1, "malformed YAML: found unexpected end of stream")),
        ("a:\n\t- x\n", (2, 1, "malformed YAML: found character that cannot start any token")),
        ("a: @x\n", (1, 4, "malformed YAML: found character that cannot start any token")),
        ("- a\nb: 1\n", (2, 1, "malformed YAML: did not find expected '-' indicator")),
    ],
)
def test_malformed_yaml_has_line_and_column(text: str, expected: tuple[int, int, str]) -> None:
    assert error(text) == expected


def test_yaml_error_is_an_exception_with_its_message() -> None:
    exc = YamlError(4, "duplicate key 'a' (first on line 1)", 3)
    assert str(exc) == "duplicate key 'a' (first on line 1)"
    assert (exc.line, exc.col) == (4, 3)


def nested(depth: int) -> str:
    return "".join(" " * i + "a:\n" for i in range(depth)) + " " * depth + "b: 1\n"


def test_deep_nesting_is_read_up_to_libyamls_limit() -> None:
    assert read(nested(50)) is not None
    node = parse_yaml(nested(500))  # deeper than the line reader goes: the event path reads it
    for _ in range(500):
        assert isinstance(node, Map)
        node = node.get("a")
    assert isinstance(node, Map)
    assert node.get("b") == Scalar("1", 501, 504, True)
    assert error(nested(2000)) == (1000, 1001, "malformed YAML: exceeded maximum nesting depth")


def test_deep_flow_is_read_up_to_libyamls_limit() -> None:
    # libyaml allows 1,000 levels, more than Python's stack would take in recursion
    node = parse_yaml("[" * 1000 + "]" * 1000)
    for _ in range(999):
        assert isinstance(node, Seq)
        (node,) = node.items
    assert node == Seq((), 1, 1000)
    assert error("[" * 1001 + "]" * 1001) == (1, 1001, "malformed YAML: exceeded maximum nesting depth")


def test_billion_laughs_is_refused_at_its_first_anchor() -> None:
    lines = ['a: &a ["lol", "lol"]'] + [f"{c}: &{c} [*{p}, *{p}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    assert error("\n".join(lines) + "\n") == (1, 4, "YAML anchors (&a) are not allowed")


# --- the line reader and the event path agree --------------------------------------------------


def front_matters() -> list[tuple[str, str]]:
    """(name, YAML) of every front matter in the entry fixtures and the example content, and the registries."""
    found = []
    for file in sorted((ROOT / "tests" / "fixtures" / "entries").glob("*.md")):
        for n, chunk in enumerate(file.read_text(encoding="utf-8").split("\n.\n")):
            split = split_front_matter(chunk)
            if split is not None:
                found.append((f"{file.name}#{n}", split[0]))
    for file in sorted((ROOT / "content").rglob("*.md")):
        split = split_front_matter(file.read_text(encoding="utf-8"))
        assert split is not None
        found.append((file.name, split[0]))
    found += [(file.name, file.read_text(encoding="utf-8")) for file in sorted((ROOT / "content").glob("*.yaml"))]
    return found


@pytest.mark.parametrize(("name", "text"), front_matters(), ids=[name for name, _ in front_matters()])
def test_both_paths_agree_on_every_fixture(name: str, text: str) -> None:
    assert outcome(parse_yaml, text) == outcome(parse_events, text)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "content" / "events").rglob("*.md")))
def test_the_line_reader_reads_the_example_entries(name: str) -> None:
    # The fast path must not silently stop applying to the content format.
    (path,) = (ROOT / "content" / "events").rglob(name)
    split = split_front_matter(path.read_text(encoding="utf-8"))
    assert split is not None
    assert yamlnodes._Lines(split[0]).document() == parse_events(split[0])


# A generator of front matter in the content format's style, with the odd value and line that is
# not (quoting, indicators, flow and block styles, comments, indentation, document markers, ...).
PLAIN = ["killed", "x1", "Latakia", "exceeded 1,000", "two  words", "عين", "a:b", "http://x.org/a?b=c#d", "a # note",
         "a#b", "trailing  ", "~", "null", "1", "yes", "a]", "a, b", "“quoted”", "x #", "it's", "[a]x", "\u00a0x", "x\u3000",
         "a \u2003#b"]  # fmt: skip
ODD = ["-x", "&a", "*a", "!t", "!!str x", "%p", "@x", "`x", "?x", ":x", "", "x: y", "x:", "{a: b}", '"a\\tb"', "'open",
       '"open', "- x", "|", "|+", "|2", "a\tb", "a\rb", "\ufeffa", "a\u2028b", "--- x", "..."]  # fmt: skip
FLOWS = ["[a, b]", "[ a ,b ]", "[]", "[ ]", "[a, b, ]", "[a b, c]", "[a: b]", "[a, [b]]", "[a-b, c.d/e]", "[عين, x]",
         "[a,b] # c", "[a, b] x", "[a,, b]", "[-a]", "[a -b]", "[_a]"]  # fmt: skip
KEYS = ["title", "a", "b", "as_of", "x-y", "2025", "null", "on", "k_1", "Z"]
ODD_KEYS = ["k" * 300, "é", "a b", "-k", "'k'", '"k"', "? k", "<<", "a"]
LINES = ["# comment", "", "   ", "  # indented comment", "---", "...", "\t- x", "%YAML 1.1", "a: 1", "- x", "  more"]


def _word(rng: random.Random) -> str:
    return rng.choice(ODD) if rng.random() < 0.08 else rng.choice(PLAIN)


def _scalar(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return _word(rng)
    if roll < 0.7:
        return rng.choice(FLOWS)
    if roll < 0.8:
        return '"' + _word(rng).replace('"', "") + '"'
    return "'" + _word(rng).replace("'", "''") + "'"


def _block(rng: random.Random, indent: int, out: list[str]) -> None:
    odd = ["| # c", ">-  ", "|+", "|2", ">1-", "|-x"]
    out[-1] += rng.choice(odd) if rng.random() < 0.2 else rng.choice(["|", "|-", ">", ">-"])
    at = indent + rng.choice([1, 2, 2, 4])
    for _ in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.6:
            out.append(" " * at + _word(rng))
        elif roll < 0.75:
            out.append("")
        elif roll < 0.78:
            out.append(" " * rng.randint(1, at + 2))
        elif roll < 0.8:
            out.append(" " * (at + 1) + "more")
        else:
            out.append(" " * at + "# not a comment")


def _mapping(rng: random.Random, indent: int, depth: int, out: list[str], dash: str | None = None) -> None:
    keys = rng.sample(KEYS, 4)
    for k in range(rng.randint(1, 4)):
        prefix = dash if k == 0 and dash is not None else " " * indent
        key = rng.choice(ODD_KEYS) if rng.random() < 0.05 else keys[k]
        roll = rng.random()
        if depth < 3 and roll < 0.15:
            out.append(f"{prefix}{key}:" + rng.choice(["", " ", " # c"]))
            _mapping(rng, indent + rng.choice([1, 2, 4]), depth + 1, out)
        elif depth < 3 and roll < 0.35:
            out.append(f"{prefix}{key}:" + rng.choice(["", "  ", " # c"]))
            _sequence(rng, indent + rng.choice([0, 0, 2, 3]), depth + 1, out)
        elif roll < 0.45:
            out.append(f"{prefix}{key}: ")
            _block(rng, indent, out)
        elif roll < 0.5:
            out.append(f"{prefix}{key}:")
        else:
            out.append(f"{prefix}{key}:{rng.choice([' ', ' ', '  ', ''])}{_scalar(rng)}")


def _sequence(rng: random.Random, indent: int, depth: int, out: list[str]) -> None:
    for _ in range(rng.randint(1, 4)):
        dash = " " * indent + "-" + rng.choice([" ", " ", "   ", ""])
        roll = rng.random()
        if depth < 3 and roll < 0.4:
            _mapping(rng, len(dash), depth + 1, out, dash)
        elif roll < 0.5:
            out.append(dash)
            _block(rng, indent, out)
        else:
            out.append(dash + _scalar(rng))


def document(rng: random.Random) -> str:
    out: list[str] = []
    if rng.random() < 0.8:
        _mapping(rng, rng.choice([0, 0, 0, 2]), 0, out)
    else:
        _sequence(rng, 0, 0, out)
    for _ in range(rng.choice([0, 0, 1, 2])):
        at, roll = rng.randrange(len(out) + 1), rng.random()
        if roll < 0.6:
            out.insert(at, rng.choice(LINES))
        elif roll < 0.8:
            out.insert(at, out[rng.randrange(len(out))])  # a duplicate key, mostly
        else:
            out[at - 1] = " " + out[at - 1]
    return "\n".join(out) + rng.choice(["", "\n", "\n\n"])


def test_both_paths_agree_on_random_documents() -> None:
    rng = random.Random(6)
    read_by_lines = 0
    for _ in range(3000):
        text = document(rng)
        assert outcome(parse_yaml, text) == outcome(parse_events, text), text
        try:
            yamlnodes._Lines(text).document()
            read_by_lines += not yamlnodes._UNUSUAL.search(text)
        except yamlnodes._Unsupported:
            pass
    assert read_by_lines > 300  # the generator does reach the line reader
