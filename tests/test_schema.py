"""schema.py: the committed JSON Schemas in docs/schema agree with the validator.

Every entry fixture of tests/fixtures/entries goes through both: the validator's verdict (the
fixture's `ok` or its problems) must be the schema's, except for the few rules a JSON Schema cannot
express, listed in NOT_EXPRESSIBLE with the reason. Front matter becomes JSON the way an editor's
YAML language server sees it: once as the brief conversion (unquoted digits are numbers, empty
values null, everything else text) and once as YAML 1.2's core schema (`1.10`, `true`, `0x1F` are
numbers and booleans), which is what VS Code's YAML extension reads.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from test_parse import FIXTURES, Case, read_fixture_file

from site_builder import schema
from site_builder.cli import main
from site_builder.dates import parse_date
from site_builder.model import MEASURES
from site_builder.parse import (
    parse_entry,
    parse_page,
    parse_publishers,
    parse_regions,
    parse_site,
    split_front_matter,
)
from site_builder.yamlnodes import Map, Node, Seq, YamlError, parse_yaml

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "docs" / "schema"
EXAMPLE = REPO / "content"

# --- what a JSON Schema cannot express ------------------------------------------------------
# (fixture file, case title or "*" for the whole file) -> why. Each listed case must be invalid to
# the validator and either not convertible to JSON at all or accepted by the schema; a listed case
# the schema starts rejecting fails the test, so the list cannot go stale.

FILE_NAME = "the event id is the file name, which is not in the front matter"
INTERVAL = "the order of an interval's two dates: a pattern sees each date, not how they compare"
UNIQUE = "an id unique across the items of a list (uniqueItems compares whole items)"
REFERENCE = "a reference from one field to another (a tally's or statement's source to the event's sources)"

NOT_EXPRESSIBLE: dict[tuple[str, str], str] = {
    ("anchors-aliases.md", "*"): "YAML anchors and aliases: an editor's YAML parser resolves them before any schema",
    ("yaml-tags.md", "*"): "explicit YAML tags: syntax that is gone once the YAML is read as data",
    ("duplicate-keys.md", "*"): "duplicate keys: the YAML parser reports them (or keeps one) before any schema",
    ("malformed-yaml.md", "*"): "malformed YAML: there is no data for a schema to check",
    ("file-name.md", "Capitals and an underscore"): FILE_NAME,
    ("file-name.md", "A space"): FILE_NAME,
    ("file-name.md", "A dot in the name"): FILE_NAME,
    ("impossible-date.md", "An interval that ends before it starts"): INTERVAL,
    ("impossible-date.md", "An interval ending in an earlier month, at another precision"): INTERVAL,
    ("tally-ranges.md", "Low greater than high"): "comparing two fields: a tally's low and high",
    ("duplicate-source-ids.md", "A source id listed twice"): UNIQUE,
    ("duplicate-source-ids.md", "Each repeat names the first"): UNIQUE,
    ("unknown-source.md", "A tally citing a source the entry does not list"): REFERENCE,
    ("unknown-source.md", "A statement citing an unknown source"): REFERENCE,
}

# Invalid entries that an editor reading YAML 1.2 does not flag although the brief conversion does:
# YAML 1.2 turns the text into a number the schema cannot tell from a valid one.
EDITOR_MISSES: dict[tuple[str, str], str] = {
    ("tally-counts.md", "A decimal count"): "YAML 1.2 reads 1225.0 as a number equal to 1225, a whole number",
}


# --- YAML nodes to JSON, as an editor sees them ---------------------------------------------


def plain_json(node: Node | None) -> Any:
    """Unquoted digits are numbers, empty values null, every other scalar text."""
    if node is None:
        return None
    if isinstance(node, Map):
        return {key.value: plain_json(value) for key, value in node.items}
    if isinstance(node, Seq):
        return [plain_json(item) for item in node.items]
    if node.is_null:
        return None
    if node.plain and node.value.isascii() and node.value.isdigit():
        return int(node.value)
    return node.value


CORE_INT = re.compile(r"[-+]?[0-9]+")
CORE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


def yaml12_json(node: Node | None) -> Any:
    """YAML 1.2's core schema (what VS Code's YAML extension reads): null, booleans, ints, floats."""
    if node is None:
        return None
    if isinstance(node, Map):
        return {key.value: yaml12_json(value) for key, value in node.items}
    if isinstance(node, Seq):
        return [yaml12_json(item) for item in node.items]
    value = node.value
    if not node.plain:
        return value
    if node.is_null:
        return None
    if value in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return value.lower() == "true"
    if CORE_INT.fullmatch(value):
        return int(value)
    if re.fullmatch(r"0o[0-7]+", value):
        return int(value[2:], 8)
    if re.fullmatch(r"0x[0-9a-fA-F]+", value):
        return int(value[2:], 16)
    if CORE_FLOAT.fullmatch(value) or re.fullmatch(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)", value):
        return float(value.replace(".inf", "inf").replace(".Inf", "inf").replace(".INF", "inf").lower())
    return value


Convert = Callable[[Node | None], Any]
CONVERSIONS = [pytest.param(plain_json, id="plain"), pytest.param(yaml12_json, id="yaml-1.2")]


def front_matter(text: str, convert: Convert = plain_json) -> Any:
    """The front matter as JSON; None without front matter. Raises YamlError where YAML is refused."""
    split = split_front_matter(text)
    return None if split is None else convert(parse_yaml(split[0]))


def document(text: str, convert: Convert = plain_json) -> Any:
    return convert(parse_yaml(text))


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMAS / schema.file_name(name)).read_text(encoding="utf-8")))


def schema_errors(name: str, data: Any) -> list[str]:
    errors = validator(name).iter_errors(data)
    return sorted(f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors)


# --- entry fixtures through both ------------------------------------------------------------


def fixture_cases() -> list[Case]:
    return [case for file in sorted(FIXTURES.glob("*.md")) for case in read_fixture_file(file)]


def params() -> list[Any]:
    return [pytest.param(c, id=f"{Path(c.file).stem}:{c.line}:{c.title}") for c in fixture_cases()]


def listed(table: dict[tuple[str, str], str], case: Case) -> str:
    return table.get((case.file, case.title)) or table.get((case.file, "*"), "")


def valid(case: Case) -> bool:
    return case.expected[:1] == ["ok"]


@pytest.mark.parametrize("case", params())
def test_schema_agrees_with_the_validator(case: Case) -> None:
    reason = listed(NOT_EXPRESSIBLE, case)
    try:
        data = front_matter(case.text)
    except YamlError as exc:
        assert reason, f"refused YAML ({exc.message}) is not listed in NOT_EXPRESSIBLE"
        assert not valid(case)
        return
    errors = schema_errors("event", data)
    if reason:
        assert not valid(case), f"listed in NOT_EXPRESSIBLE ({reason}) but the validator accepts it"
        assert errors == [], f"listed in NOT_EXPRESSIBLE ({reason}) but the schema rejects it: remove it from the list"
    elif valid(case):
        assert errors == [], "the validator accepts this entry, the schema does not"
    else:
        assert errors, (
            f"the validator rejects this entry ({case.expected}), the schema accepts it: make the schema say so, "
            "or list the case in NOT_EXPRESSIBLE with the reason a JSON Schema cannot"
        )


@pytest.mark.parametrize("case", params())
def test_an_editor_reading_yaml_1_2_agrees_too(case: Case) -> None:
    try:
        data = front_matter(case.text, yaml12_json)
    except YamlError:
        return  # listed in NOT_EXPRESSIBLE, as the test above checks
    errors = schema_errors("event", data)
    if valid(case):
        assert errors == [], "an editor would flag a valid entry"
    elif not listed(NOT_EXPRESSIBLE, case):
        missed = listed(EDITOR_MISSES, case)
        assert bool(errors) != bool(missed), missed or "an editor would not flag this invalid entry"


def test_every_listed_case_exists() -> None:
    cases = {(c.file, c.title) for c in fixture_cases()} | {(c.file, "*") for c in fixture_cases()}
    assert set(NOT_EXPRESSIBLE) - cases == set()
    assert set(EDITOR_MISSES) - cases == set()


def test_fixtures_include_both_verdicts() -> None:
    cases = fixture_cases()
    assert sum(valid(c) for c in cases) >= 20
    assert sum(not valid(c) and not listed(NOT_EXPRESSIBLE, c) for c in cases) >= 60


# --- pages and registries through both ------------------------------------------------------

PAGE = "content/pages/about.md"
SITE = "title: Archive\ndescription: An archive.\nbase_url: https://example.org/archive/\n"

# (schema, file text, valid to the validator, reason when the schema cannot tell)
EXAMPLES: list[tuple[str, str, bool, str]] = [
    ("page", "---\ntitle: About\ndescription: Who we are.\norder: 2\n---\n# About\n", True, ""),
    ("page", "---\ntitle: 2025\norder: 0012\ndescription:\n---\n", True, ""),
    ("page", "---\ndescription: d\n---\n", False, ""),
    ("page", "---\ntitle: About\nslug: about-us\n---\n", False, ""),
    ("page", "---\ntitle: About\norder: first\n---\n", False, ""),
    ("page", '---\ntitle: About\norder: "2"\n---\n', False, ""),
    ("page", "---\ntitle: About\norder: -1\n---\n", False, ""),
    ("page", "no front matter\n", False, ""),
    ("page", "---\ntitle: a\ntitle: b\n---\n", False, "duplicate keys"),
    ("site", SITE, True, ""),
    ("site", SITE + "language: pt-BR\nlicense: CC BY 4.0\nmeasures: [arrested, killed]\n", True, ""),
    ("site", SITE.replace("archive/", "archive") + "measures:\n", True, ""),
    ("site", "", False, ""),
    ("site", "- title: Archive\n", False, ""),
    ("site", "title: Archive\n", False, ""),
    ("site", SITE + "theme: dark\n", False, ""),
    ("site", SITE.replace("https://example.org/archive/", "example.org"), False, ""),
    ("site", SITE.replace("https://example.org/archive/", "ftp://example.org/"), False, ""),
    ("site", SITE + "language: English\n", False, ""),
    ("site", SITE + "measures: [Arrested]\n", False, ""),
    ("site", SITE + "measures: arrested\n", False, ""),
    ("site", SITE + "title: Again\n", False, "duplicate keys"),
    (
        "regions",
        "- id: syria\n  name: {en: Syria, ar: سوريا}\n- id: latakia\n  name: Latakia\n  parent: syria\n",
        True,
        "",
    ),
    ("regions", "- id: a\n  name: A\n  parent:\n- id: 2025\n  name: 2025\n", True, ""),
    ("regions", "", True, ""),
    ("regions", "[]\n", True, ""),
    ("regions", "syria: Syria\n", False, ""),
    ("regions", "- id: syria\n", False, ""),
    ("regions", "- name: Syria\n", False, ""),
    ("regions", "- id:\n  name: Syria\n", False, ""),
    ("regions", "- id: Syria\n  name: Syria\n", False, ""),
    ("regions", "- id: syria\n  name: Syria\n  capital: Damascus\n", False, ""),
    ("regions", "- id: syria\n  name: []\n", False, ""),
    ("regions", "- id: syria\n  name: {}\n", False, ""),
    ("regions", "- id: syria\n  name: {english: Syria}\n", False, ""),
    ("regions", "- id: syria\n  name: {en: ''}\n", False, ""),
    ("regions", "- id: a\n  name: A\n  parent: [b]\n", False, ""),
    ("regions", "- id: syria\n  name: Syria\n- id: syria\n  name: Syria again\n", False, UNIQUE),
    ("sources", "- id: sohr\n  name: SOHR\n  type: monitor\n  url: https://www.syriahr.com/en/\n", True, ""),
    ("sources", "- id: news-report\n  name: A news report\n  description: >-\n    Unnamed.\n", True, ""),
    ("sources", "", True, ""),
    ("sources", "sohr: SOHR\n", False, ""),
    ("sources", "- id: sohr\n", False, ""),
    ("sources", "- id: sohr\n  name: ''\n", False, ""),
    ("sources", "- id: sohr\n  name: SOHR\n  url: javascript:alert(1)\n", False, ""),
    ("sources", "- id: sohr\n  name: SOHR\n  url: https:example.org\n", False, ""),
    ("sources", "- id: sohr\n  name: SOHR\n  founded: 2006\n", False, ""),
    ("sources", "- id: sohr\n  name: SOHR\n- id: sohr\n  name: SOHR\n", False, UNIQUE),
    ("sources", "- id: sohr\n  name: &n SOHR\n", False, "anchors"),
]

PARSERS: dict[str, Callable[[str], list[Any]]] = {
    "page": lambda text: parse_page(text, PAGE)[1],
    "site": lambda text: parse_site(text, "content/site.yaml")[1],
    "regions": lambda text: parse_regions(text, "content/regions.yaml")[1],
    "sources": lambda text: parse_publishers(text, "content/sources.yaml")[1],
}


@pytest.mark.parametrize("convert", CONVERSIONS)
@pytest.mark.parametrize(("name", "text", "ok", "reason"), EXAMPLES)
def test_pages_and_registries_agree_with_the_validator(
    name: str, text: str, ok: bool, reason: str, convert: Convert
) -> None:
    problems = PARSERS[name](text)
    assert (problems == []) == ok, [str(p) for p in problems]
    try:
        data = front_matter(text, convert) if name == "page" else document(text, convert)
    except YamlError:
        assert reason and not ok
        return
    errors = schema_errors(name, data)
    if reason:
        assert errors == [], f"listed as not expressible ({reason}) but the schema rejects it"
    else:
        assert (errors == []) == ok, errors


# --- the example archive --------------------------------------------------------------------


def example_files() -> Iterator[Any]:
    for name in ("site", "regions", "sources"):
        yield pytest.param(name, EXAMPLE / f"{name}.yaml", id=f"{name}.yaml")
    for path in sorted((EXAMPLE / "events").rglob("*.md")):
        yield pytest.param("event", path, id=path.relative_to(EXAMPLE).as_posix())
    for path in sorted((EXAMPLE / "pages").glob("*.md")):
        yield pytest.param("page", path, id=path.relative_to(EXAMPLE).as_posix())


@pytest.mark.parametrize("convert", CONVERSIONS)
@pytest.mark.parametrize(("name", "path"), list(example_files()))
def test_example_archive_is_valid_against_the_committed_schema(name: str, path: Path, convert: Convert) -> None:
    text = path.read_text(encoding="utf-8")
    data = document(text, convert) if path.suffix == ".yaml" else front_matter(text, convert)
    assert data is not None
    assert schema_errors(name, data) == []


def test_example_archive_has_every_kind_of_file() -> None:
    names = [p.values[0] for p in example_files()]
    assert {"event", "page", "site", "regions", "sources"} <= set(names)
    assert names.count("event") >= 4


# --- the committed files --------------------------------------------------------------------


def test_committed_schemas_are_what_the_command_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regenerate with `site-builder schema` after changing the validator or site.yaml's measures."""
    output = tmp_path / "schema"
    assert main(["schema", "--output", str(output), "--content", str(EXAMPLE)]) == 0
    written = capsys.readouterr().out.splitlines()
    assert written == [(output / schema.file_name(n)).as_posix() for n in schema.NAMES]
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(schema.file_name(n) for n in schema.NAMES)
    for name in schema.NAMES:
        committed = (SCHEMAS / schema.file_name(name)).read_bytes()
        assert (output / schema.file_name(name)).read_bytes() == committed, (
            f"docs/schema/{name}: run site-builder schema"
        )


def test_generation_is_deterministic() -> None:
    first = {name: schema.render(s) for name, s in schema.generate().items()}
    assert first == {name: schema.render(s) for name, s in schema.generate().items()}
    assert all(text.endswith("}\n") for text in first.values())


@pytest.mark.parametrize("name", schema.NAMES)
def test_committed_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    document = json.loads((SCHEMAS / schema.file_name(name)).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == f"urn:site-builder:schema:{name}"
    assert document["title"]
    assert "Not checked by this schema" in document["description"]


def objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every subschema with `properties`."""
    if isinstance(node, dict):
        if "properties" in node:
            yield node
        for value in node.values():
            yield from objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from objects(value)


@pytest.mark.parametrize("name", schema.NAMES)
def test_every_field_is_described_and_unknown_keys_are_errors(name: str) -> None:
    document = schema.generate()[name]
    found = list(objects(document))
    assert found
    for record in found:
        assert record["additionalProperties"] is False
        for key, field in record["properties"].items():
            assert field.get("description"), key
    # Editors show the description next to a $ref; a description in $defs could replace it.
    assert all("description" not in definition for definition in document.get("$defs", {}).values())


def test_only_draft_07_keywords_are_used() -> None:
    """YAML language servers implement draft-07: newer keywords would be silently ignored there."""
    text = "".join(schema.render(s) for s in schema.generate().values())
    for keyword in ("dependentRequired", "dependentSchemas", "prefixItems", "unevaluated", "$anchor", "$dynamic"):
        assert f'"{keyword}' not in text


# --- the schema follows the validator's own field lists --------------------------------------

ENTRY = "---\ntitle: T\ndate: 2025\nregions: [a]\n{extra}sources: [{{id: s}}]\n---\n"
ENTRY_PATH = "content/events/2025/2025-x.md"


def _entry(extra: str) -> list[str]:
    return [p.message for p in parse_entry(ENTRY.format(extra=extra), ENTRY_PATH)[1]]


# name -> (schema, messages with an unknown field, messages with every field left out)
RECORDS: dict[str, tuple[str, Callable[[], list[str]], Callable[[], list[str]]]] = {
    "event": (
        "event",
        lambda: _entry("zzz: 1\n"),
        lambda: [p.message for p in parse_entry("---\nsummary: s\n---\n", ENTRY_PATH)[1]],
    ),
    "tally": (
        "event",
        lambda: _entry("tallies: [{measure: killed, count: 1, source: s, zzz: 1}]\n"),
        lambda: _entry("tallies: [{group: all}]\n"),
    ),
    "statement": (
        "event",
        lambda: _entry("statements: [{speaker: x, text: y, zzz: 1}]\n"),
        lambda: _entry("statements: [{role: r}]\n"),
    ),
    "source": (
        "event",
        lambda: [
            p.message for p in parse_entry(ENTRY.format(extra="").replace("id: s", "id: s, zzz: 1"), ENTRY_PATH)[1]
        ],
        lambda: [p.message for p in parse_entry(ENTRY.format(extra="").replace("id: s", "name: n"), ENTRY_PATH)[1]],
    ),
    "confidence": (
        "event",
        lambda: _entry("confidence: {grade: fair, zzz: 1}\n"),
        lambda: _entry("confidence: {note: n}\n"),
    ),
    "page": (
        "page",
        lambda: [p.message for p in parse_page("---\ntitle: T\nzzz: 1\n---\n", PAGE)[1]],
        lambda: [p.message for p in parse_page("---\norder: 1\n---\n", PAGE)[1]],
    ),
    "site.yaml": (
        "site",
        lambda: [p.message for p in parse_site(SITE + "zzz: 1\n", "site.yaml")[1]],
        lambda: [p.message for p in parse_site("license: l\n", "site.yaml")[1]],
    ),
    "region": (
        "regions",
        lambda: [p.message for p in parse_regions("- {id: a, name: A, zzz: 1}\n", "regions.yaml")[1]],
        lambda: [p.message for p in parse_regions("- {parent: a}\n", "regions.yaml")[1]],
    ),
    "publisher": (
        "sources",
        lambda: [p.message for p in parse_publishers("- {id: a, name: A, zzz: 1}\n", "sources.yaml")[1]],
        lambda: [p.message for p in parse_publishers("- {type: t}\n", "sources.yaml")[1]],
    ),
}


@pytest.mark.parametrize("record", RECORDS)
def test_schema_has_the_validators_fields_and_required_fields(record: str) -> None:
    name, unknown, missing = RECORDS[record]
    listed_fields = [m.split("valid fields: ")[1].split(", ") for m in unknown() if "valid fields: " in m]
    assert len(listed_fields) == 1
    required = sorted(re.findall(r"missing required field '([^']+)'", " ".join(missing())))
    assert required
    found = [(list(o["properties"]), sorted(o["required"])) for o in objects(schema.generate()[name])]
    assert (listed_fields[0], required) in found


def test_event_schema_lists_the_built_in_measures() -> None:
    tally = next(o for o in objects(schema.generate()["event"]) if "measure" in o["properties"])
    assert tally["properties"]["measure"]["enum"] == list(MEASURES)


# --- dates ----------------------------------------------------------------------------------


def _parses(text: str) -> bool:
    try:
        parse_date(text)
    except ValueError:
        return False
    return True


def sample_dates() -> Iterator[str]:
    for year in ("0000", "0004", "0100", "0400", "1900", "2000", "2023", "2024", "2025", "2100", "9999"):
        yield year
        for month in range(0, 14):
            yield f"{year}-{month:02d}"
            for day in range(0, 33):
                yield f"{year}-{month:02d}-{day:02d}"
    yield from ("25", "2025-3", "2025-03-8", "20250308", "2025-03-08T10:00", "March 2025", "")


def test_date_pattern_accepts_exactly_the_dates_that_exist() -> None:
    pattern = re.compile(schema.DATE_PATTERN)
    wrong = [s for s in sample_dates() if bool(pattern.search(s)) != _parses(s)]
    assert wrong == []
    for qualified in ("2024-02-29?", "2025~", "2025-03%", "2025-03-08?~", "~2025"):
        assert bool(pattern.search(qualified)) == _parses(qualified), qualified


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("2025-03-07/2025-03-08", True),
        ("2025-03/2025-04-15", True),
        ("2025-03-07~/2025-03-09?", True),
        ("2025-03-08/2025-03-07", True),  # exists, but ends before it starts: left to the validator
        ("2025-03-07/2025-02-30", False),
        ("2025-03-08/", False),
        ("2025-03-07/2025-03-08/2025-03-09", False),
    ],
)
def test_date_pattern_on_intervals(text: str, matches: bool) -> None:
    assert bool(re.search(schema.DATE_PATTERN, text)) == matches


def test_a_bare_year_is_a_date_to_an_editor() -> None:
    tally = "tallies: [{measure: killed, count: 1, as_of: 2025, source: s}]\n"
    assert schema_errors("event", front_matter(ENTRY.format(extra=tally), yaml12_json)) == []
    assert schema_errors("event", front_matter(ENTRY.format(extra="").replace("2025", "20250308"))) != []


# --- the command ----------------------------------------------------------------------------


def test_defaults() -> None:
    parser = argparse.ArgumentParser()
    schema.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.output, args.content) == (Path("docs/schema"), Path("content"))


def test_measures_added_in_site_yaml_are_in_the_event_schema(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "site.yaml").write_text(SITE + "measures: [arrested, killed, evicted]\n", encoding="utf-8")
    output = tmp_path / "schema"
    assert main(["schema", "--content", str(content), "--output", str(output)]) == 0
    event = json.loads((output / "event.schema.json").read_text(encoding="utf-8"))
    tally = next(o for o in objects(event) if "measure" in o["properties"])
    assert tally["properties"]["measure"]["enum"] == [*MEASURES, "arrested", "evicted"]
    assert "arrested, evicted" in event["description"]
    entry = ENTRY.format(extra="tallies: [{measure: arrested, count: 4, source: s}]\n")
    assert Draft202012Validator(event).is_valid(front_matter(entry))
    assert not validator("event").is_valid(front_matter(entry))  # the committed one has the built-in measures


def test_without_site_yaml_the_built_in_measures_are_used(tmp_path: Path) -> None:
    output = tmp_path / "schema"
    assert main(["schema", "--content", str(tmp_path / "nowhere"), "--output", str(output)]) == 0
    assert (output / "event.schema.json").read_bytes() == (SCHEMAS / "event.schema.json").read_bytes()


def test_a_broken_site_yaml_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "site.yaml").write_text(SITE + "measures: [Arrested]\n", encoding="utf-8")
    output = tmp_path / "schema"
    assert main(["schema", "--content", str(content), "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert "site.yaml:4: error: 'Arrested' is not a valid id" in err
    assert "nothing was written" in err
    assert not output.exists()
