"""load.py and validate.py: a content tree on disk in, an Archive or every problem, sorted, out.

Each test writes its own small tree from a dict, then runs `validate(load_content(...))` from the
tree's parent folder so that problems read `content/...`, as `site-builder check` prints them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder.errors import ContentError, Problem
from site_builder.load import load_content
from site_builder.model import Archive
from site_builder.validate import RESERVED, validate

SITE = "title: Test archive\ndescription: A test archive.\nbase_url: https://example.org/test/\n"
REGIONS = "- id: syria\n  name: Syria\n- id: latakia\n  name: {en: Latakia, ar: اللاذقية}\n  parent: syria\n"
SOURCES = "- id: sohr\n  name: Syrian Observatory for Human Rights\n"
EVENT_PATH = "events/2025/2025-03-08-example.md"


def event(extra: str = "", regions: str = "[latakia]", body: str = "Narrative.\n", source: str = "sohr") -> str:
    """A small valid event; `extra` goes after `regions` (line 5 on)."""
    front = f"title: Example event\ndate: 2025-03-08\nregions: {regions}\n{extra}sources:\n  - id: {source}\n"
    return f"---\n{front}---\n{body}"


def minimal(**files: str) -> dict[str, str | bytes]:
    """The minimal valid site (site.yaml, regions.yaml, sources.yaml, one event), plus or replacing `files`."""
    tree: dict[str, str | bytes] = {
        "site.yaml": SITE,
        "regions.yaml": REGIONS,
        "sources.yaml": SOURCES,
        EVENT_PATH: event(),
    }
    tree.update(files)
    return tree


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative path: text or bytes} under root; returns root."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


Check = Callable[[dict[str, str | bytes]], list[str]]


@pytest.fixture
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder `content/`, the working directory being its parent."""
    monkeypatch.chdir(tmp_path)
    return Path("content")


@pytest.fixture
def check(content: Path) -> Check:
    """Write a tree and return the problems `validate` raises, as printed."""

    def run(files: dict[str, str | bytes]) -> list[str]:
        write_tree(content, files)
        with pytest.raises(ContentError) as info:
            validate(load_content(content))
        return [str(p) for p in info.value.problems]

    return run


@pytest.fixture
def archive(content: Path) -> Callable[[dict[str, str | bytes]], Archive]:
    def run(files: dict[str, str | bytes]) -> Archive:
        write_tree(content, files)
        return validate(load_content(content))

    return run


# --- a valid archive -------------------------------------------------------------------------


def test_minimal_site_is_valid(archive: Callable[[dict[str, str | bytes]], Archive]) -> None:
    result = archive(minimal())
    assert result.site.title == "Test archive"
    assert result.site.base_url == "https://example.org/test/"
    assert [r.id for r in result.regions] == ["syria", "latakia"]
    assert [p.id for p in result.publishers] == ["sohr"]
    assert [(e.id, e.path, e.regions) for e in result.events] == [
        ("2025-03-08-example", "content/events/2025/2025-03-08-example.md", ("latakia",))
    ]
    assert result.pages == ()


def test_draft_events_are_left_out_of_the_archive(archive: Callable[[dict[str, str | bytes]], Archive]) -> None:
    result = archive(
        minimal(
            **{
                "events/2025/2025-03-09-draft.md": event("status: draft\n"),
                "events/2025/2025-03-10-retracted.md": event("status: retracted\n"),
                "events/2025/2025-03-11-disputed.md": event("status: disputed\n"),
            }
        )
    )
    assert sorted(e.id for e in result.events) == ["2025-03-08-example", "2025-03-10-retracted", "2025-03-11-disputed"]


def test_draft_events_are_still_checked(check: Check) -> None:
    assert check(minimal(**{"events/2025/2025-03-09-draft.md": event("status: draft\n", regions="[atlantis]")})) == [
        "content/events/2025/2025-03-09-draft.md:4: error: unknown region 'atlantis': "
        "add it to regions.yaml or fix the id"
    ]


def test_source_named_in_the_entry_needs_no_registry(archive: Callable[[dict[str, str | bytes]], Archive]) -> None:
    text = event().replace("  - id: sohr\n", "  - id: sohr\n  - id: reuters\n    name: Reuters\n")
    result = archive(minimal(**{EVENT_PATH: text}))
    assert [(s.id, s.name) for s in result.events[0].sources] == [("sohr", ""), ("reuters", "Reuters")]


def test_pages_are_ordered_by_order_then_title(archive: Callable[[dict[str, str | bytes]], Archive]) -> None:
    result = archive(
        minimal(
            **{
                "pages/zeta.md": "---\ntitle: Zeta\norder: 1\n---\n",
                "pages/beta.md": "---\ntitle: Beta\n---\n",
                "pages/alpha.md": "---\ntitle: Alpha\n---\n",
                "pages/methodology.md": "---\ntitle: Methodology\norder: 2\n---\n",
            }
        )
    )
    assert [p.slug for p in result.pages] == ["zeta", "methodology", "alpha", "beta"]


def test_site_measures_are_allowed_in_tallies(archive: Callable[[dict[str, str | bytes]], Archive]) -> None:
    tally = "tallies:\n  - measure: arrested\n    count: 4\n    source: sohr\n"
    result = archive(minimal(**{"site.yaml": SITE + "measures: [arrested]\n", EVENT_PATH: event(tally)}))
    assert result.events[0].tallies[0].measure == "arrested"


def test_measures_not_in_site_yaml_are_refused(check: Check) -> None:
    tally = "tallies:\n  - measure: arrested\n    count: 4\n    source: sohr\n"
    assert check(minimal(**{EVENT_PATH: event(tally)})) == [
        "content/events/2025/2025-03-08-example.md:6: error: measure: 'arrested' is not one of: "
        "killed, injured, missing, detained, displaced"
    ]


def test_only_markdown_files_outside_hidden_folders_are_read(
    archive: Callable[[dict[str, str | bytes]], Archive],
) -> None:
    result = archive(
        minimal(
            **{
                "events/2025/notes.txt": "not an event",
                "events/2025/.hidden/2025-03-09-x.md": "not read",
                "events/.drafts/2025-03-09-y.md": "not read",
                "pages/README": "not a page",
            }
        )
    )
    assert [e.id for e in result.events] == ["2025-03-08-example"]
    assert result.pages == ()


# --- references ------------------------------------------------------------------------------


def test_unknown_region_is_reported_on_its_item_line(check: Check) -> None:
    assert check(minimal(**{EVENT_PATH: event(regions="\n  - latakia\n  - atlantis\n  - syria")})) == [
        "content/events/2025/2025-03-08-example.md:6: error: unknown region 'atlantis': "
        "add it to regions.yaml or fix the id"
    ]


def test_unknown_region_parent(check: Check) -> None:
    regions = REGIONS + "- id: tartous\n  name: Tartous\n  parent: syira\n"
    assert check(minimal(**{"regions.yaml": regions})) == [
        "content/regions.yaml:6: error: region 'tartous' has unknown parent 'syira'"
    ]


def test_region_cycle(check: Check) -> None:
    regions = (
        "- id: syria\n  name: Syria\n"
        "- id: latakia\n  name: Latakia\n  parent: jableh\n"
        "- id: jableh\n  name: Jableh\n  parent: latakia\n"
    )
    assert check(minimal(**{"regions.yaml": regions})) == [
        "content/regions.yaml:3: error: regions form a cycle: latakia > jableh > latakia"
    ]


def test_region_that_is_its_own_parent(check: Check) -> None:
    assert check(minimal(**{"regions.yaml": REGIONS + "- id: homs\n  name: Homs\n  parent: homs\n"})) == [
        "content/regions.yaml:6: error: regions form a cycle: homs > homs"
    ]


def test_region_below_a_cycle_reports_the_cycle_once(check: Check) -> None:
    regions = (
        "- id: syria\n  name: Syria\n"
        "- id: latakia\n  name: Latakia\n  parent: a\n"
        "- id: a\n  name: A\n  parent: b\n"
        "- id: b\n  name: B\n  parent: a\n"
    )
    assert check(minimal(**{"regions.yaml": regions})) == [
        "content/regions.yaml:6: error: regions form a cycle: a > b > a"
    ]


def test_source_without_name_must_be_in_the_registry(check: Check) -> None:
    assert check(minimal(**{EVENT_PATH: event(source="reuters")})) == [
        "content/events/2025/2025-03-08-example.md:6: error: source 'reuters' needs a 'name' "
        "(it is not in sources.yaml)"
    ]


def test_sources_yaml_is_optional_when_every_source_has_a_name(
    archive: Callable[[dict[str, str | bytes]], Archive],
) -> None:
    tree = minimal(**{EVENT_PATH: event().replace("  - id: sohr\n", "  - id: sohr\n    name: SOHR\n")})
    del tree["sources.yaml"]
    assert archive(tree).publishers == ()


# --- URLs: ids, aliases, pages ---------------------------------------------------------------


def test_same_event_id_in_two_folders_names_both_files(check: Check) -> None:
    assert check(minimal(**{"events/2024/2025-03-08-example.md": event()})) == [
        "content/events/2025/2025-03-08-example.md:1: error: maps to the same URL 'events/2025-03-08-example/' "
        "as content/events/2024/2025-03-08-example.md; ids must be unique"
    ]


def test_alias_colliding_with_another_event_id(check: Check) -> None:
    other = event("aliases: [old-name, 2025-03-08-example]\n")
    assert check(minimal(**{"events/2025/2025-03-09-other.md": other})) == [
        "content/events/2025/2025-03-09-other.md:5: error: maps to the same URL 'events/2025-03-08-example/' "
        "as content/events/2025/2025-03-08-example.md; ids must be unique"
    ]


def test_two_events_with_the_same_alias(check: Check) -> None:
    files = {
        EVENT_PATH: event("aliases:\n  - coastal\n"),
        "events/2025/2025-03-09-other.md": event("aliases:\n  - coastal\n"),
    }
    assert check(minimal(**files)) == [
        "content/events/2025/2025-03-09-other.md:6: error: maps to the same URL 'events/coastal/' "
        "as content/events/2025/2025-03-08-example.md; ids must be unique"
    ]


def test_reserved_page_slug(check: Check) -> None:
    assert check(minimal(**{"pages/search.md": "---\ntitle: Search\n---\n"})) == [
        "content/pages/search.md:1: error: page name 'search' is reserved; rename the file"
    ]


@pytest.mark.parametrize("slug", [*RESERVED, "index"])
def test_every_reserved_page_slug(check: Check, slug: str) -> None:
    assert check(minimal(**{f"pages/{slug}.md": "---\ntitle: Page\n---\n"})) == [
        f"content/pages/{slug}.md:1: error: page name '{slug}' is reserved; rename the file"
    ]


def test_reserved_names_cover_the_documented_ones() -> None:
    assert {"events", "regions", "tags", "sources", "search", "pagefind", "assets"} <= set(RESERVED)


def test_two_pages_with_one_slug(check: Check) -> None:
    page = "---\ntitle: About\n---\n"
    assert check(minimal(**{"pages/about.md": page, "pages/old/about.md": page})) == [
        "content/pages/old/about.md:1: error: maps to the same URL 'about/' as content/pages/about.md; "
        "ids must be unique"
    ]


# --- narratives ------------------------------------------------------------------------------


def test_unsafe_link_in_an_event_narrative_is_reported_on_its_file_line(check: Check) -> None:
    body = "First paragraph.\n\nSee [the video](javascript:alert(1)).\n"
    # Lines 1-7 are front matter; the narrative starts on line 8.
    assert check(minimal(**{EVENT_PATH: event(body=body)})) == [
        "content/events/2025/2025-03-08-example.md:10: error: link 'javascript:alert(1)' is not allowed: "
        "use http, https, mailto or a relative link"
    ]


@pytest.mark.parametrize("url", ["data:text/html,x", "vbscript:msgbox(1)", "file:///etc/passwd"])
def test_other_unsafe_schemes_in_narratives(check: Check, url: str) -> None:
    assert check(minimal(**{EVENT_PATH: event(body=f"[x]({url})\n")})) == [
        f"content/events/2025/2025-03-08-example.md:8: error: link '{url}' is not allowed: "
        "use http, https, mailto or a relative link"
    ]


def test_unsafe_link_in_a_page(check: Check) -> None:
    page = "---\ntitle: About\n---\nWrite to us.\n\n- [mail](mailto:team@example.org)\n- [x](javascript:void(0))\n"
    assert check(minimal(**{"pages/about.md": page})) == [
        "content/pages/about.md:7: error: link 'javascript:void(0)' is not allowed: "
        "use http, https, mailto or a relative link"
    ]


def test_unsafe_link_inside_a_paragraph_is_reported_on_its_own_line(check: Check) -> None:
    body = "A paragraph that goes on\nto a [bad link](javascript:alert(1)).\n"
    assert check(minimal(**{EVENT_PATH: event(body=body)})) == [
        "content/events/2025/2025-03-08-example.md:9: error: link 'javascript:alert(1)' is not allowed: "
        "use http, https, mailto or a relative link"
    ]


def test_safe_links_in_narratives(archive: Callable[[dict[str, str | bytes]], Archive]) -> None:
    body = "[a](https://example.org/) [b](../2025-03-09-other/) [c](mailto:a@example.org) [d](#top)\n"
    assert archive(minimal(**{EVENT_PATH: event(body=body)})).events[0].body == body


# --- site.yaml and the registries ------------------------------------------------------------


def test_site_yaml_unknown_key_lists_valid_keys(check: Check) -> None:
    assert check(minimal(**{"site.yaml": SITE + "baseurl: https://example.org/\n"})) == [
        "content/site.yaml:4: error: unknown field 'baseurl' in site.yaml; "
        "valid fields: title, description, base_url, language, measures, license, release_tags"
    ]


def test_missing_site_yaml(check: Check) -> None:
    tree = minimal()
    del tree["site.yaml"]
    assert check(tree) == [
        "content/site.yaml: error: missing: every archive needs a site.yaml with title, description and base_url"
    ]


def test_missing_regions_yaml(check: Check) -> None:
    tree = minimal()
    del tree["regions.yaml"]
    assert check(tree) == [
        "content/events/2025/2025-03-08-example.md:4: error: unknown region 'latakia': "
        "add it to regions.yaml or fix the id",
        "content/regions.yaml: error: missing: this file is required",
    ]


def test_broken_site_yaml_stops_the_build(check: Check) -> None:
    assert check(minimal(**{"site.yaml": "title: Test archive\n"})) == [
        "content/site.yaml:1: error: missing required field 'base_url' in site.yaml",
        "content/site.yaml:1: error: missing required field 'description' in site.yaml",
    ]


def test_content_folder_not_found(content: Path) -> None:
    with pytest.raises(ContentError) as info:
        validate(load_content(content))
    assert [str(p) for p in info.value.problems] == ["content: error: content folder not found"]


# --- all problems, at once, sorted -----------------------------------------------------------


def test_problems_from_many_files_are_reported_together_sorted_by_path_then_line(check: Check) -> None:
    files = minimal(
        **{
            "site.yaml": SITE + "colour: red\n",
            "regions.yaml": REGIONS + "- id: homs\n  name: Homs\n  parent: nowhere\n",
            EVENT_PATH: event("status: live\n", regions="[atlantis]", body="x\n\n\n\n\n\n\n\n[x](javascript:x)\n"),
            "events/2024/2024-12-08-fall.md": event("titel: typo\n", source="unknown"),
            "events/2025/Bad.md": event(),
            "pages/search.md": "---\ntitle: Search\n---\n",
        }
    )
    assert check(files) == [
        "content/events/2024/2024-12-08-fall.md:5: error: unknown field 'titel' in event; valid fields: title, "
        "summary, date, regions, tags, status, confidence, tallies, statements, sources, aliases",
        "content/events/2024/2024-12-08-fall.md:7: error: source 'unknown' needs a 'name' (it is not in sources.yaml)",
        "content/events/2025/2025-03-08-example.md:4: error: unknown region 'atlantis': "
        "add it to regions.yaml or fix the id",
        "content/events/2025/2025-03-08-example.md:5: error: status: 'live' is not one of: "
        "published, disputed, retracted, draft",
        "content/events/2025/2025-03-08-example.md:17: error: link 'javascript:x' is not allowed: "
        "use http, https, mailto or a relative link",
        "content/events/2025/Bad.md:1: error: file name 'Bad' is not a valid id: use lowercase letters, digits and '-'",
        "content/pages/search.md:1: error: page name 'search' is reserved; rename the file",
        "content/regions.yaml:6: error: region 'homs' has unknown parent 'nowhere'",
        "content/site.yaml:4: error: unknown field 'colour' in site.yaml; valid fields: title, description, base_url, "
        "language, measures, license, release_tags",
    ]


def test_content_error_message_is_one_problem_per_line() -> None:
    problems = [
        Problem("b.md", 2, "second"),
        Problem("a.md", 9, "third"),
        Problem("a.md", 10, "last"),
        Problem("a.md", 0, "file"),
    ]
    error = ContentError(problems)
    assert str(error) == "a.md: error: file\na.md:9: error: third\na.md:10: error: last\nb.md:2: error: second"


# --- what is never read ----------------------------------------------------------------------


def test_symlinked_event_file_is_reported_and_not_read(check: Check, tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("---\ntitle: [this would be malformed YAML\n---\n", encoding="utf-8")
    write_tree(Path("content"), minimal())
    os.symlink(outside, "content/events/2025/2025-03-09-link.md")
    assert check({}) == [
        "content/events/2025/2025-03-09-link.md:1: error: symbolic links are not followed: "
        "replace the link with the file"
    ]


def test_symlinked_folder_is_reported_and_not_entered(check: Check, tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "elsewhere", {"2025-03-09-secret.md": "---\ntitle: [\n---\n"})
    write_tree(Path("content"), minimal())
    os.symlink(outside, "content/events/2026", target_is_directory=True)
    assert check({}) == ["content/events/2026:1: error: symbolic links are not followed"]


def test_symlinked_site_yaml_is_reported_and_not_read(check: Check, tmp_path: Path) -> None:
    outside = tmp_path / "site.yaml"
    outside.write_text(SITE, encoding="utf-8")
    tree = minimal()
    del tree["site.yaml"]
    write_tree(Path("content"), tree)
    os.symlink(outside, "content/site.yaml")
    assert check({}) == ["content/site.yaml:1: error: symbolic links are not followed: replace the link with the file"]


def test_non_utf8_file_is_reported(check: Check) -> None:
    latin1 = "---\ntitle: Café\ndate: 2025-03-08\nregions: [latakia]\nsources: [{id: sohr}]\n---\n".encode("latin-1")
    assert check(minimal(**{"events/2025/2025-03-09-latin.md": latin1})) == [
        "content/events/2025/2025-03-09-latin.md:2: error: not UTF-8 text: invalid continuation byte at byte 14;"
        " save the file as UTF-8"
    ]


def test_reserved_slugs_are_documented() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "content-format.md").read_text(encoding="utf-8")
    section = doc[doc.index("These slugs are reserved") :][:400]
    assert [slug for slug in RESERVED if f"`{slug}`" not in section] == []
