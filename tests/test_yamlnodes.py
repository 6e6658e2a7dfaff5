"""yamlnodes.py: strict YAML into a tree of strings, lists and mappings, with line numbers."""

from __future__ import annotations

import pytest

from site_builder.yamlnodes import Map, Scalar, Seq, YamlError, parse_yaml


def parse_map(text: str) -> Map:
    node = parse_yaml(text)
    assert isinstance(node, Map)
    return node


def value(node: Map, key: str) -> Scalar:
    found = node.get(key)
    assert isinstance(found, Scalar)
    return found


def error(text: str) -> tuple[int, int, str]:
    with pytest.raises(YamlError) as info:
        parse_yaml(text)
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
    node = parse_yaml("title: T\nregions:\n  - latakia\n  - tartous\nsources: [{id: sohr}]\n")
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
    assert parse_yaml("- a\n- b\n") == Seq((Scalar("a", 1, 3, True), Scalar("b", 2, 3, True)), 1, 1)
    assert parse_yaml("just text\n") == Scalar("just text", 1, 1, True)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "  \n# c\n"])
def test_empty_document_is_none(text: str) -> None:
    assert parse_yaml(text) is None


def test_explicit_document_markers_are_allowed() -> None:
    assert parse_yaml("---\na: 1\n...\n") == Map(((Scalar("a", 2, 1, True), Scalar("1", 2, 4, True)),), 2, 1)


def test_non_specific_tag_is_allowed() -> None:
    # `! text` only says "a string", which every scalar already is.
    assert parse_yaml("- ! text\n") == Seq((Scalar("text", 1, 3, True),), 1, 1)


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
    node = parse_yaml("- id: a\n- id: b\n")
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
