"""`site-builder new`: write a new event file with every field, ready for a contributor to fill in.

    site-builder new "Killings on the coast" --date 2025-03-07 --region latakia --tag killings

writes `content/events/2025/2025-03-07-killings-on-the-coast.md`: the required fields filled from
the arguments, every optional field present as a commented-out example with a one-line
explanation, one placeholder source and a placeholder narrative. The placeholder source id,
`TODO-source-id`, is not a valid id, so `check` fails on that line until it is replaced: an
unfilled scaffold cannot be merged by accident. Once the placeholders are filled, the file passes
`check`.

The file name is `<date>-<slug>.md` (the date's start, at its own precision), in the folder of the
year the event starts. The slug comes from the title's Latin letters and digits (accents dropped);
a title with none, such as an Arabic or Cyrillic one, gets `event-` and a short hash of the title,
stable across runs, and `--slug` chooses a readable one. No transliteration is attempted.

A file is never overwritten, and an id already used anywhere under `events/` (as a file name or
an alias) is refused. Exit codes: 0 written, 1 refused (unknown region, id taken), 2 wrong usage.

The pure part (`slugify`, `event_text`, `target_path`) touches no files; `create_event` checks
the regions and ids on disk and writes the file.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from .dates import EdtfDate, parse_date
from .fields import CONTROL, SLUG
from .load import markdown_files
from .parse import parse_entry, parse_regions

MAX_SLUG = 60
PLACEHOLDER_SOURCE = "TODO-source-id"  # not a valid id (capitals), so check fails until it is replaced
CONTENT_ERROR = 1
USAGE_ERROR = 2

# Latin letters that NFKD does not take apart into a base letter and marks.
_LATIN = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ł": "l", "ı": "i"})


class ScaffoldError(Exception):
    """Why no file was written, with the exit code: 1 refused by the content, 2 wrong usage."""

    def __init__(self, message: str, code: int = CONTENT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# --- pure: slug, path and file text ---------------------------------------------------------


def clean_title(title: str) -> str:
    """The title on one line, runs of whitespace (newlines, tabs) as single spaces."""
    return " ".join(title.split())


def _latin(title: str) -> str:
    """Lower-case text with accents and other combining marks removed."""
    text = unicodedata.normalize("NFKD", title).lower()
    return "".join(c for c in text if not unicodedata.combining(c)).translate(_LATIN)


def _cap(slug: str, limit: int = MAX_SLUG) -> str:
    """At most `limit` characters, cut at a hyphen when the first word allows it."""
    if len(slug) <= limit:
        return slug
    head = slug[: limit + 1]
    cut = head.rfind("-")
    return (head[:cut] if cut > 0 else slug[:limit]).strip("-")


def title_hash(title: str) -> str:
    """Six hex digits from the title: the same title always gives the same ones."""
    text = unicodedata.normalize("NFC", clean_title(title))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]


def slugify(title: str) -> str:
    """A `[a-z0-9-]+` slug from the title's Latin letters and digits, at most MAX_SLUG characters.

    'Protests in Baniyas: "No more"' → 'protests-in-baniyas-no-more'; 'Élection à Hama' →
    'election-a-hama'; "Syria's coast" → 'syrias-coast'. Letters of other scripts are left out;
    a title without a Latin letter (Arabic, Cyrillic, Chinese, digits only) gives 'event-' and
    six hex digits of a hash of the title, stable across runs.
    """
    text = re.sub(r"['’‘ʼ`]", "", _latin(title))  # "Syria's" → "syrias", not "syria-s"
    slug = _cap(re.sub(r"[^a-z0-9]+", "-", text).strip("-"))
    if not re.search(r"[a-z]", slug):
        return f"event-{title_hash(title)}"
    return slug


def dropped_letters(title: str) -> bool:
    """True when the title has letters that cannot appear in a slug (non-Latin script)."""
    return any(c.isalpha() and not c.isascii() for c in _latin(title))


def target_path(content: Path, date: EdtfDate, slug: str) -> Path:
    """`content/events/<year>/<start>-<slug>.md`, the start written at its own precision."""
    start = date.start.iso
    return content / "events" / start[:4] / f"{start}-{slug}.md"


_PRINTABLE = re.compile("[\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def yaml_quote(text: str) -> str:
    """`text` as a YAML double-quoted scalar, which reads back as exactly `text`."""
    out = []
    for c in text:
        if c in '\\"':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif _PRINTABLE.match(c):
            out.append(c)
        elif ord(c) <= 0xFF:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) <= 0xFFFF:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


def _line(code: str, comment: str = "", width: int = 40) -> str:
    if not comment:
        return code
    return f"{code:<{width}} # {comment}" if len(code) < width else f"{code}  # {comment}"


def event_text(title: str, date: str, regions: Sequence[str], tags: Sequence[str]) -> str:
    """The text of a new event file: front matter with every field, then a placeholder narrative.

    `date` is EDTF text and `regions` and `tags` are slugs, already checked. Required fields are
    filled; optional ones are commented-out examples (delete the `# ` before a key to use it).
    """
    day = parse_date(date).start.iso
    source = PLACEHOLDER_SOURCE
    lines = [
        "---",
        "# A new event. To finish it:",
        f"#   1. Replace every TODO. `site-builder check` fails until {source} below is a real source id.",
        '#   2. Use the optional fields you need: delete the "# " before the key. Delete the others.',
        "#   3. Run: site-builder check",
        '# Every field is explained in docs/content-format.md. Quote text with "..." when it contains',
        '# ": " or " #". Counts are plain whole numbers: 1225, not 1,225.',
        f"title: {yaml_quote(clean_title(title))}",
        _line("# summary: TODO", "one or two sentences, shown on timelines and lists"),
        _line(f"date: {date}", "EDTF: 2025, 2025-03, 2025-03-07, 2025-03-07/2025-03-08; ~ about, ? uncertain"),
        _line(f"regions: [{', '.join(regions)}]", "ids from regions.yaml; at least one"),
        _line(f"tags: [{', '.join(tags)}]", "descriptive slugs, e.g. [displacement, protest]; [] for none"),
        _line(
            "# status: published",
            "published (default) | disputed (shown with a notice) | retracted (kept, with a notice)"
            " | draft (not built)",
        ),
        _line("# confidence:", "how far the account can be relied on"),
        _line("#   grade: fair", "required: confirmed | fair | weak | contested"),
        _line("#   note: TODO", "why: state facts about the sources, not opinions"),
        _line("# tallies:", "figures: one per source and date; never add up figures from different sources"),
        _line(
            "#   - measure: killed",
            "required: killed | injured | missing | detained | displaced, or a site.yaml measure",
        ),
        _line("#     group: civilians", "who is counted (default all), e.g. civilians, security-forces, combatants"),
        _line("#     count: 100", "a whole number; or low: and high: (both) for a range"),
        _line(
            "#     qualifier: at-least", "exact (default) | approximately | at-least | more-than | up-to | fewer-than"
        ),
        _line("#     verbatim: hundreds of residents", "the source's own words for the figure"),
        _line(f"#     as_of: {day}", "when the source stated the figure (not when it happened)"),
        _line("#     scope: Latakia", "the part of the event the figure covers; leave out for the whole event"),
        _line(f"#     source: {source}", "required: the id of one of this event's sources below"),
        _line("# statements:", "quotes and paraphrases, each attributed"),
        _line("#   - speaker: Activists on the ground", "required: a person, body or group, as the source names it"),
        _line("#     role: TODO", "the speaker's role, e.g. UN Special Envoy for Syria"),
        _line("#     organization: TODO", "the speaker's organisation, e.g. United Nations"),
        _line(f"#     date: {day}", "when the statement was made, if the source says"),
        _line("#     kind: paraphrase", "quote (only the source's exact words) | paraphrase (default)"),
        _line("#     text: TODO", "required: the quoted words, or the paraphrase"),
        _line(f"#     source: {source}", "the id of one of this event's sources below"),
        _line("sources:", "at least one; list the primary sources first"),
        _line(f"  - id: {source}", "TODO: an id from sources.yaml, or a new slug plus name:"),
        _line("    # name: TODO", "the publisher's name; needed unless the id is in sources.yaml"),
        _line("    # title: TODO", "title of the article, report or statement"),
        _line("    # url: TODO", "http or https; leave it out when unknown, never guess one"),
        _line("    # archive_url: TODO", "a preserved copy, e.g. in a web archive"),
        _line(f"    # published: {day}", "when the item was published; an interval if known only to within days"),
        _line(f"    # accessed: {day}", "when it was read"),
        _line("    # language: en", "language of the item (BCP 47), e.g. en, ar"),
        _line("# aliases: [TODO-old-id]", "former ids of this event, so links to its old address keep working"),
        "---",
        "TODO: a few short paragraphs restating what the sources say, each statement attributed",
        '("According to ..."). Keep figures as the sources give them.',
        "",
    ]
    return "\n".join(lines)


# --- on disk: regions, ids, the write -------------------------------------------------------


def _shown(path: Path) -> str:
    return path.as_posix()


def known_regions(content: Path) -> list[str]:
    """The region ids in `content/regions.yaml`, in file order."""
    path = content / "regions.yaml"
    label = _shown(path)
    if path.is_symlink():
        raise ScaffoldError(f"{label} is a symbolic link, which is not followed: replace the link with the file")
    if not path.is_file():
        raise ScaffoldError(f"{label} not found: run this in the archive's folder, or give --content")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScaffoldError(f"cannot read {label}: {exc}") from None
    regions, _ = parse_regions(text, label)  # its own problems are for `check` to report
    return [r.id for r in regions]


def check_regions(content: Path, regions: Sequence[str]) -> None:
    """Raise ScaffoldError naming each region that is not in regions.yaml, and the valid ids."""
    valid = known_regions(content)
    unknown = [r for r in regions if r not in valid]
    if not unknown:
        return
    lines = []
    for region in unknown:
        close = difflib.get_close_matches(region.lower(), valid, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        lines.append(f"unknown region '{region}'{hint}")
    ids = ", ".join(valid) or "none: add regions to regions.yaml first"
    raise ScaffoldError("; ".join(lines) + f"\nvalid region ids in {_shown(content / 'regions.yaml')}: {ids}")


def _existing_ids(content: Path) -> Iterable[tuple[str, Path, str]]:
    """(id, file, how) for every event file under `content/events`, and for each alias it declares."""
    for path, label in markdown_files(content / "events", [], _shown(content / "events")):
        yield path.stem, path, "file"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        event, _ = parse_entry(text, label)
        for alias in event.aliases if event else ():
            yield alias, path, "alias"


def check_unique(content: Path, target: Path) -> None:
    """Raise ScaffoldError when `target` exists or its id is used by any event, in any folder."""
    if target.exists() or target.is_symlink():
        raise ScaffoldError(f"{_shown(target)} already exists; choose another --slug")
    new_id = target.stem
    for found, path, how in _existing_ids(content):
        if found != new_id:
            continue
        if how == "alias":
            raise ScaffoldError(
                f"'{new_id}' is an alias of {_shown(path)}, so that address is taken; choose another --slug"
            )
        raise ScaffoldError(
            f"an event with id '{new_id}' already exists: {_shown(path)}; ids are unique across the archive, "
            "choose another --slug"
        )


def _slugs(values: Iterable[str], what: str) -> list[str]:
    out: list[str] = []
    for value in values:
        if not SLUG.match(value):
            raise ScaffoldError(
                f"{what} '{value}' is not a valid slug: use lowercase letters, digits and '-'", USAGE_ERROR
            )
        if value not in out:
            out.append(value)
    return out


def create_event(
    content: Path,
    title: str,
    date: str,
    regions: Sequence[str],
    tags: Sequence[str] = (),
    slug: str | None = None,
) -> Path:
    """Write a new event file and return its path; ScaffoldError (nothing written) when refused."""
    title = clean_title(title)
    if not title:
        raise ScaffoldError("the title must not be empty", USAGE_ERROR)
    control = CONTROL.search(title)
    if control is not None:  # `check` would refuse the entry: say so before writing it
        raise ScaffoldError(f"the title holds control character U+{ord(control.group()):04X}", USAGE_ERROR)
    try:
        parsed = parse_date(date)
    except ValueError as exc:
        raise ScaffoldError(f"--date: {exc}", USAGE_ERROR) from None
    if not regions:
        raise ScaffoldError("give at least one --region", USAGE_ERROR)
    tags = _slugs(tags, "tag")
    if slug is not None:
        _slugs([slug], "--slug")
    check_regions(content, regions)
    regions = list(dict.fromkeys(regions))
    path = target_path(content, parsed, slug or slugify(title))
    check_unique(content, path)
    text = event_text(title, parsed.text, regions, tags)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8", newline="\n") as out:  # "x": never overwrite, even in a race
            out.write(text)
    except FileExistsError:
        raise ScaffoldError(f"{_shown(path)} already exists; choose another --slug") from None
    return path


# --- command line ---------------------------------------------------------------------------


def _split(value: str) -> list[str]:
    return [part for part in re.split(r"[,\s]+", value) if part]


def _date_arg(value: str) -> str:
    try:
        return parse_date(value).text
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _slug_arg(value: str) -> str:
    if not SLUG.match(value):
        raise argparse.ArgumentTypeError(f"'{value}' is not a valid slug: use lowercase letters, digits and '-'")
    return value


def _tags_arg(value: str) -> list[str]:
    return [_slug_arg(tag) for tag in _split(value)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write content/events/<year>/<date>-<slug>.md with every field present, the optional ones "
        "commented out. Never overwrites a file."
    )
    parser.add_argument("title", help='the event\'s title, in quotes: "Killings on the coast"')
    parser.add_argument(
        "--date",
        required=True,
        type=_date_arg,
        help="when it happened: 2025-03-07, 2025-03, 2025, an interval 2025-03-07/2025-03-08, ~ about, ? uncertain",
    )
    parser.add_argument(
        "--region",
        dest="regions",
        action="append",
        required=True,
        metavar="ID",
        help="a region id from regions.yaml; repeat it (or separate ids with commas) for several",
    )
    parser.add_argument(
        "--tag",
        dest="tags",
        action="append",
        default=[],
        type=_tags_arg,
        metavar="TAG",
        help="a tag (lowercase letters, digits, '-'); repeat it for several",
    )
    parser.add_argument(
        "--slug",
        type=_slug_arg,
        help="the file name after the date (lowercase letters, digits, '-'); default: made from the title",
    )
    parser.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")


def run(args: argparse.Namespace) -> int:
    regions = [region for value in args.regions for region in _split(value)]
    tags = [tag for values in args.tags for tag in values]
    try:
        path = create_event(args.content, args.title, args.date, regions, tags, args.slug)
    except ScaffoldError as error:
        print(f"site-builder new: error: {error.message}", file=sys.stderr)
        return error.code
    print(f"Wrote {_shown(path)}")
    if args.slug is None and dropped_letters(args.title):
        print(
            f"The title's non-Latin letters cannot go in a file name, so the id is '{path.stem}'. "
            "For a readable one, delete the file and run this again with --slug my-slug (lowercase Latin letters, "
            "digits and '-')."
        )
    print(
        f"Next: replace the TODOs ({PLACEHOLDER_SOURCE} and the narrative), use the optional fields you need, "
        f"then run: site-builder check --content {_shown(args.content)}"
    )
    return 0
