"""The archive as typed, frozen records: built once by the parser, never mutated afterwards."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .dates import EdtfDate

MEASURES = ("killed", "injured", "missing", "detained", "displaced")
QUALIFIERS = ("exact", "approximately", "at-least", "more-than", "up-to", "fewer-than")
STATUSES = ("published", "disputed", "retracted", "draft")
GRADES = ("confirmed", "fair", "weak", "contested")
STATEMENT_KINDS = ("quote", "paraphrase")


@dataclass(frozen=True)
class Site:
    title: str
    description: str
    base_url: str
    language: str = "en"
    measures: tuple[str, ...] = MEASURES
    license: str = ""
    release_tags: str = "v*"  # Git tags that are releases (a glob)


@dataclass(frozen=True)
class Region:
    id: str
    names: Mapping[str, str]
    parent: str | None
    line: int = 0

    def name(self, language: str) -> str:
        """The name in `language`, else the untranslated one (key ""), else English, else the first."""
        names = self.names
        return names.get(language) or names.get("") or names.get("en") or next(iter(names.values()))


@dataclass(frozen=True)
class Publisher:
    """An entry of sources.yaml: who publishes, shared by all entries that cite them."""

    id: str
    name: str
    type: str = ""
    url: str = ""
    description: str = ""
    line: int = 0


@dataclass(frozen=True)
class Source:
    """One source an entry cites; `number` is its 1-based place in the entry's list."""

    id: str
    number: int
    name: str = ""
    title: str = ""
    url: str = ""
    archive_url: str = ""
    published: EdtfDate | None = None
    accessed: EdtfDate | None = None
    language: str = ""
    line: int = 0


@dataclass(frozen=True)
class Tally:
    measure: str
    source: str
    group: str = "all"
    count: int | None = None
    low: int | None = None
    high: int | None = None
    qualifier: str = "exact"
    verbatim: str = ""
    as_of: EdtfDate | None = None
    scope: str = ""
    line: int = 0

    @property
    def lower(self) -> int:
        """Smallest value the figure allows."""
        if self.count is None:
            return self.low or 0
        return {"more-than": self.count + 1, "up-to": 0, "fewer-than": 0}.get(self.qualifier, self.count)

    @property
    def upper(self) -> int | None:
        """Largest value the figure allows; None when open-ended ('at least', 'more than')."""
        if self.count is None:
            return self.high
        if self.qualifier in ("at-least", "more-than"):
            return None
        return max(self.count - 1, 0) if self.qualifier == "fewer-than" else self.count

    @property
    def exact(self) -> bool:
        return self.count is not None and self.qualifier == "exact"


@dataclass(frozen=True)
class Statement:
    speaker: str
    text: str
    kind: str = "paraphrase"
    role: str = ""
    organization: str = ""
    date: EdtfDate | None = None
    source: str = ""
    line: int = 0


@dataclass(frozen=True)
class Confidence:
    grade: str
    note: str = ""


@dataclass(frozen=True)
class Event:
    id: str
    path: str
    title: str
    date: EdtfDate
    regions: tuple[str, ...]
    sources: tuple[Source, ...]
    summary: str = ""
    tags: tuple[str, ...] = ()
    status: str = "published"
    confidence: Confidence | None = None
    tallies: tuple[Tally, ...] = ()
    statements: tuple[Statement, ...] = ()
    aliases: tuple[str, ...] = ()
    body: str = ""
    body_line: int = 0
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    region_lines: tuple[int, ...] = field(default=(), compare=False, repr=False)
    # The body parsed once, by the parser: safe HTML, and its plain text (for search indexes).
    body_html: str = field(default="", compare=False, repr=False)
    body_text: str = field(default="", compare=False, repr=False)

    @property
    def url(self) -> str:
        return f"events/{self.id}/"

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)


@dataclass(frozen=True)
class Page:
    slug: str
    path: str
    title: str
    description: str = ""
    order: int = 100
    body: str = ""
    body_line: int = 0

    @property
    def url(self) -> str:
        return f"{self.slug}/"


@dataclass(frozen=True)
class Archive:
    """Everything under content/, parsed and validated."""

    site: Site
    regions: tuple[Region, ...]
    publishers: tuple[Publisher, ...]
    events: tuple[Event, ...]
    pages: tuple[Page, ...]


# --- history from Git (site_builder.history) -------------------------------------------------

# A revision's view of an entry: its front matter as plain strings, lists and mappings (YAML read
# without type resolution), or None where the file did not exist or did not parse.
Snapshot = Mapping[str, object] | None


@dataclass(frozen=True)
class Revision:
    """One commit that touched an entry's file, with the entry before and after it."""

    commit: str  # full id
    date: str  # commit date, ISO YYYY-MM-DD (UTC)
    subject: str
    before: Snapshot
    after: Snapshot


@dataclass(frozen=True)
class Removal:
    """An entry whose file a commit deleted (and that no later file took over)."""

    id: str
    path: str  # its last path, relative to the repository
    commit: str
    date: str
    subject: str
    last: Snapshot  # the entry as it was before removal


@dataclass(frozen=True)
class History:
    head: str  # the commit the history was read up to
    revisions: Mapping[str, tuple[Revision, ...]]  # event id (current file name) -> oldest first
    removed: tuple[Removal, ...] = ()


# --- releases (site_builder.versions) -----------------------------------------------------------


@dataclass(frozen=True)
class Release:
    tag: str
    commit: str
    date: str  # the tagged commit's date, YYYY-MM-DD


@dataclass(frozen=True)
class Edition:
    """Which version of the archive a build is, and the others its pages link to."""

    releases: tuple[Release, ...] = ()  # newest first
    release: Release | None = None  # None: the current archive
    current_ids: frozenset[str] = frozenset()  # event ids of the current archive, for old releases' banners
    commit: str = ""  # the commit built, when the content is in Git
    bundle: str = ""  # the zip's file name under download/ (`build --bundle`), else ""
