"""scaffold.py (`site-builder new`): the file it writes fails `check` until its placeholders are
filled and passes once they are; slugs, paths, refusals and exit codes."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import MINIMAL_SITE, event, write_tree

from site_builder.build import check
from site_builder.dates import parse_date
from site_builder.errors import ContentError
from site_builder.parse import parse_entry
from site_builder.scaffold import (
    MAX_SLUG,
    PLACEHOLDER_SOURCE,
    ScaffoldError,
    create_event,
    event_text,
    slugify,
    target_path,
)

ARABIC = "مجزرة في بانياس"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "content", MINIMAL_SITE)


def new(
    content: Path,
    title: str = "Protest in the hills",
    date: str = "2025-03-07",
    regions: Sequence[str] = ("hills",),
    tags: Sequence[str] = ("protest",),
    slug: str | None = None,
) -> Path:
    return create_event(content, title, date, regions, tags, slug)


def fill(text: str) -> str:
    """Fill the placeholders as a contributor would: a real source id, a narrative."""
    text = text.replace(PLACEHOLDER_SOURCE, "monitor")
    return text.replace("TODO: a few short paragraphs", "According to the monitor, a protest took place.\nMore")


def fill_everything(text: str) -> str:
    """Uncomment every optional field (delete the '# ' before its key) and fill every TODO."""
    key = re.compile(r"^(\s*)# (\s*(?:- )?[a-z_]+:(?: |$))", re.MULTILINE)
    text = key.sub(r"\1\2", text)
    text = text.replace("url: TODO", "url: https://example.org/report")
    text = text.replace("TODO-old-id", "old-id")
    return fill(text).replace("TODO", "Filled in")


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), start=1) if needle in line)


# --- the written file and check -----------------------------------------------------------------


def test_unfilled_scaffold_fails_check_at_the_placeholder_source(content: Path) -> None:
    path = new(content)
    assert path == content / "events/2025/2025-03-07-protest-in-the-hills.md"
    text = path.read_text(encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        check(content)
    [problem] = caught.value.problems
    assert problem.path == path.as_posix()
    assert problem.line == line_of(text, f"  - id: {PLACEHOLDER_SOURCE}")
    assert (
        PLACEHOLDER_SOURCE in problem.message
        and "is a placeholder from `site-builder new`: replace it" in problem.message
    )


def test_filled_scaffold_passes_check_and_parses_back_to_the_arguments(content: Path) -> None:
    path = new(content, "Protest in the hills", "2025-03-07/2025-03-08~", regions=["hills", "north"], tags=["a", "b"])
    assert path.name == "2025-03-07-protest-in-the-hills.md"
    path.write_text(fill(path.read_text(encoding="utf-8")), encoding="utf-8")
    [parsed] = check(content).events
    assert parsed.id == "2025-03-07-protest-in-the-hills"
    assert parsed.title == "Protest in the hills"
    assert parsed.date == parse_date("2025-03-07/2025-03-08~")
    assert parsed.regions == ("hills", "north")
    assert parsed.tags == ("a", "b")
    assert [s.id for s in parsed.sources] == ["monitor"]
    assert parsed.tallies == () and parsed.statements == () and parsed.aliases == ()


def test_every_commented_field_is_valid_once_uncommented_and_filled(content: Path) -> None:
    """The commented-out examples name real fields, at the right indentation, with valid values."""
    path = new(content, tags=[])
    text = fill_everything(path.read_text(encoding="utf-8"))
    assert not re.search(r"^\s*#\s*-?\s*[a-z_]+:", text, re.MULTILINE)  # nothing left commented out
    path.write_text(text, encoding="utf-8")
    [parsed] = check(content).events
    assert parsed.tags == () and parsed.summary == "Filled in"
    assert parsed.status == "published" and parsed.confidence is not None and parsed.confidence.grade == "fair"
    [tally] = parsed.tallies
    assert (tally.measure, tally.group, tally.count, tally.qualifier, tally.source) == (
        "killed",
        "civilians",
        100,
        "at-least",
        "monitor",
    )
    assert tally.as_of == parse_date("2025-03-07") and tally.scope == "Latakia"
    [statement] = parsed.statements
    assert (statement.kind, statement.source, statement.text) == ("paraphrase", "monitor", "Filled in")
    [source] = parsed.sources
    assert (source.id, source.url, source.archive_url, source.language) == (
        "monitor",
        "https://example.org/report",
        "https://example.org/report",
        "en",
    )
    assert source.published == source.accessed == parse_date("2025-03-07")
    assert parsed.aliases == ("old-id",)


def test_an_uncommented_but_unfilled_tally_still_fails_check(content: Path) -> None:
    path = new(content)
    lines = path.read_text(encoding="utf-8").replace(f"  - id: {PLACEHOLDER_SOURCE}", "  - id: monitor").split("\n")
    start, end = (
        lines.index(next(x for x in lines if x.startswith("# tallies:"))),
        line_of("\n".join(lines), "statements:"),
    )
    lines[start : end - 1] = [line.replace("# ", "", 1) for line in lines[start : end - 1]]
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        check(content)
    [problem] = caught.value.problems
    assert problem.line == line_of("\n".join(lines), f"    source: {PLACEHOLDER_SOURCE}")
    assert PLACEHOLDER_SOURCE in problem.message


def test_every_field_of_the_format_is_in_the_file() -> None:
    text = event_text("T", "2025-03-07", ["north"], [])
    fields = [
        *("title", "summary", "date", "regions", "tags", "status", "confidence", "grade", "note"),
        *("tallies", "measure", "group", "count", "qualifier", "verbatim", "as_of", "scope", "source"),
        *("statements", "speaker", "role", "organization", "kind", "text"),
        *("sources", "id", "name", "url", "archive_url", "published", "accessed", "language", "aliases"),
    ]
    for field in fields:
        assert re.search(rf"^[#\s-]*{field}:", text, re.MULTILINE), field
    assert "low: and high:" in text
    assert "quote" in text and "paraphrase" in text
    assert "exact (default) | approximately | at-least | more-than | up-to | fewer-than" in text
    assert "published (default) | disputed" in text and "| draft (not built)" in text
    assert "confirmed | fair | weak | contested" in text


@pytest.mark.parametrize(
    "title",
    [
        'Raid: "Operation #7" at dawn',
        "Back\\slash and 'single' quotes",
        "[Update] & *notes* | > % @ `tick`",
        "no",
        "2025-03-08",
        "- starts with a dash: yes #no",
        "NEL\x85 and NBSP\xa0 and \ufeff BOM",
        "  several\n lines \t and   spaces  ",
        "مجزرة: «الساحل» #١",
    ],
)
def test_titles_are_quoted_so_they_read_back_exactly(content: Path, title: str) -> None:
    path = new(content, title, slug="x")
    text = fill(path.read_text(encoding="utf-8"))
    parsed, problems = parse_entry(text, "content/events/2025/2025-03-07-x.md")
    assert problems == [] and parsed is not None
    assert parsed.title == " ".join(title.split())
    assert re.search(r'^title: ".*"$', text, re.MULTILINE)


@pytest.mark.parametrize("title", ["Bell\x07", "DEL\x7f", "ESC\x1b", "NUL\x00"])
def test_a_title_with_a_control_character_is_a_usage_error(content: Path, title: str) -> None:
    with pytest.raises(ScaffoldError) as caught:
        new(content, title)
    assert caught.value.code == 2 and "control character" in str(caught.value)
    assert not (content / "events").exists()


def test_an_empty_title_is_a_usage_error(content: Path) -> None:
    with pytest.raises(ScaffoldError) as caught:
        new(content, "  \n ")
    assert caught.value.code == 2
    assert not (content / "events").exists()


# --- slugs and paths -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Killings on Syria's coast", "killings-on-syrias-coast"),
        ("Élection à Hama, déplacés", "election-a-hama-deplaces"),
        ("Straße in Łódź, Ørsted & Æther", "strasse-in-lodz-orsted-aether"),
        ('Protests in Baniyas: "No more!" (#2)', "protests-in-baniyas-no-more-2"),
        ("  --Hello__World--  ", "hello-world"),
        ("ＡＢＣ１２ fullwidth", "abc12-fullwidth"),
        ("Protests in حمص, 2025", "protests-in-2025"),
        ("مظاهرة Latakia ٢٠٢٥", "latakia"),
        ("UN: 1,000 killed", "un-1-000-killed"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_long_titles_are_cut_at_a_word_boundary() -> None:
    title = "Displacement from the coastal villages of Latakia and Tartous after the killings of March"
    slug = slugify(title)
    assert len(slug) <= MAX_SLUG and not slug.endswith("-")
    assert title.lower().replace(" ", "-").startswith(slug + "-")  # whole words only
    assert slugify("a" * 100) == "a" * MAX_SLUG  # one long word is cut where it must be
    assert slugify("word " * 11 + "abcdefghij") == "-".join(["word"] * 11)  # 54 characters, not 60 + a piece


@pytest.mark.parametrize("title", [ARABIC, "Протесты в Москве", "海岸屠杀", "2025", "!!!"])
def test_titles_without_latin_letters_get_event_and_a_hash(title: str) -> None:
    slug = slugify(title)
    assert re.fullmatch(r"event-[0-9a-f]{6}", slug)
    assert slug == "event-" + hashlib.sha256(" ".join(title.split()).encode()).hexdigest()[:6]


def test_the_hash_fallback_is_stable_across_runs() -> None:
    """Not Python's salted hash(): another process, with another hash seed, gives the same slug."""
    code = f"from site_builder.scaffold import slugify; print(slugify({ARABIC!r}))"
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert runs == {slugify(ARABIC)}
    assert slugify("Протесты в Москве") != slugify("Протесты в Латакии")


@pytest.mark.parametrize(
    ("date", "path"),
    [
        ("2025-03-07", "events/2025/2025-03-07-x.md"),
        ("2025-03~", "events/2025/2025-03-x.md"),
        ("2025?", "events/2025/2025-x.md"),
        ("2024-12-30/2025-01-02", "events/2024/2024-12-30-x.md"),
        ("2025-03-07~/2025-03-09?", "events/2025/2025-03-07-x.md"),
    ],
)
def test_target_path_uses_the_start_at_its_own_precision(date: str, path: str) -> None:
    assert target_path(Path("content"), parse_date(date), "x") == Path("content") / path


def test_date_is_written_as_given(content: Path) -> None:
    path = new(content, date="2025-03-07~/2025-03-09?")
    assert "\ndate: 2025-03-07~/2025-03-09? " in path.read_text(encoding="utf-8")


def test_slug_option_chooses_the_file_name(content: Path) -> None:
    path = new(content, ARABIC, slug="baniyas-killings")
    assert path == content / "events/2025/2025-03-07-baniyas-killings.md"
    assert f'title: "{ARABIC}"' in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("slug", "tag"), [("Bad", "ok"), ("with space", "ok"), ("ünï", "ok"), ("", "ok"), (None, "Bad")]
)
def test_invalid_slug_or_tag_is_a_usage_error(content: Path, slug: str | None, tag: str) -> None:
    with pytest.raises(ScaffoldError, match="not a valid slug") as caught:
        new(content, tags=[tag], slug=slug)
    assert caught.value.code == 2
    assert not (content / "events").exists()


# --- refusals ------------------------------------------------------------------------------------


def test_an_existing_file_is_never_overwritten(content: Path) -> None:
    path = new(content, slug="x")
    path.write_text("edited by hand", encoding="utf-8")
    with pytest.raises(ScaffoldError) as caught:
        new(content, "Another title", slug="x")
    assert caught.value.code == 1
    assert caught.value.message == f"{path.as_posix()} already exists; choose another --slug"
    assert path.read_text(encoding="utf-8") == "edited by hand"


def test_the_same_id_in_another_year_folder_is_refused(content: Path) -> None:
    other = write_tree(content, {"events/2024/2025-03-07-x.md": event()}) / "events/2024/2025-03-07-x.md"
    before = other.read_text(encoding="utf-8")
    with pytest.raises(ScaffoldError) as caught:
        new(content, slug="x")
    assert caught.value.code == 1
    assert "'2025-03-07-x' already exists" in caught.value.message and other.as_posix() in caught.value.message
    assert "--slug" in caught.value.message
    assert other.read_text(encoding="utf-8") == before
    assert not (content / "events/2025").exists()


def test_an_alias_of_another_event_is_refused(content: Path) -> None:
    write_tree(content, {"events/2024/2024-01-01-y.md": event(extra="aliases: [2025-03-07-x]\n")})
    with pytest.raises(ScaffoldError, match=r"alias of .*2024-01-01-y\.md"):
        new(content, slug="x")


def test_unknown_regions_are_refused_with_the_valid_ids(content: Path) -> None:
    with pytest.raises(ScaffoldError) as caught:
        new(content, regions=["hills", "latakia", "Hills"])
    assert caught.value.code == 1
    message = caught.value.message
    assert "unknown region 'latakia'" in message and "unknown region 'Hills' (did you mean 'hills'?)" in message
    assert "valid region ids" in message and "north, hills" in message
    assert not (content / "events").exists()


def test_missing_regions_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match=r"regions\.yaml not found"):
        new(tmp_path / "nowhere")


@pytest.mark.parametrize("date", ["2025-02-30", "7 March 2025", "2025-03-08/2025-03-07", ""])
def test_a_bad_date_is_a_usage_error(content: Path, date: str) -> None:
    with pytest.raises(ScaffoldError) as caught:
        new(content, date=date)
    assert caught.value.code == 2 and caught.value.message.startswith("--date: ")
    assert not (content / "events").exists()


# --- the command line ----------------------------------------------------------------------------


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "site_builder", "new", *args], cwd=cwd, capture_output=True, text=True)


def test_cli_writes_the_file_and_says_what_next(content: Path) -> None:
    cwd = content.parent
    done = run_cli(
        'Raid: "Op #7"', "--date", "2025-03-07", "--region", "hills", "--region", "north", "--tag", "a,b", cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    assert "Wrote content/events/2025/2025-03-07-raid-op-7.md" in done.stdout
    assert "TODO" in done.stdout and "site-builder check" in done.stdout
    parsed, _ = parse_entry(
        fill((content / "events/2025/2025-03-07-raid-op-7.md").read_text(encoding="utf-8")), "e/2025-03-07-x.md"
    )
    assert parsed is not None
    assert (parsed.title, parsed.regions, parsed.tags) == ('Raid: "Op #7"', ("hills", "north"), ("a", "b"))


def test_cli_hints_at_slug_for_non_latin_titles(content: Path) -> None:
    done = run_cli(ARABIC, "--date", "2025-03", "--region", "north", cwd=content.parent)
    assert done.returncode == 0, done.stderr
    assert f"content/events/2025/2025-03-{slugify(ARABIC)}.md" in done.stdout
    assert "--slug my-slug" in done.stdout
    plain = run_cli("Plain title", "--date", "2025-03", "--region", "north", cwd=content.parent)
    assert plain.returncode == 0 and "--slug my-slug" not in plain.stdout


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["T", "--date", "2025-03-07", "--region", "latakia"], 1, "valid region ids in content/regions.yaml: north"),
        (["T", "--date", "2025-02-30", "--region", "north"], 2, "February 2025 has 28 days"),
        (["T", "--date", "yesterday", "--region", "north"], 2, "'yesterday' is not a date"),
        (["T", "--date", "2025-03-07"], 2, "--region"),
        (["T", "--region", "north"], 2, "--date"),
        (["T", "--date", "2025", "--region", "north", "--tag", "Bad Tag"], 2, "not a valid slug"),
        (["T", "--date", "2025", "--region", "north", "--slug", "Not_Ok"], 2, "not a valid slug"),
    ],
)
def test_cli_exit_codes(content: Path, args: list[str], code: int, said: str) -> None:
    done = run_cli(*args, cwd=content.parent)
    assert done.returncode == code and said in done.stderr, done.stderr
    assert not (content / "events").exists()


def test_cli_refuses_a_collision_with_exit_1(content: Path) -> None:
    first = run_cli("Same", "--date", "2025-03-07", "--region", "north", cwd=content.parent)
    assert first.returncode == 0, first.stderr
    path = content / "events/2025/2025-03-07-same.md"
    before = path.read_text(encoding="utf-8")
    again = run_cli("Same", "--date", "2025-03-07", "--region", "hills", cwd=content.parent)
    assert again.returncode == 1
    assert "content/events/2025/2025-03-07-same.md already exists; choose another --slug" in again.stderr
    assert path.read_text(encoding="utf-8") == before
