"""`site-builder init DIR`: create a new archive repository, ready to push.

The files come from `repo_template/` beside this module (shipped as package data): the content
skeleton (no events), the GitHub workflows and GitLab CI file, the pre-commit configuration, the
pull-request template, CONTRIBUTING.md and README.md. A file whose name ends in `.tmpl` is filled
in with `string.Template` (`${title}`, ...) and written without that suffix; every other file is
copied as it is. The content format reference, docs/content-format.md, is copied in as well, so
the link to it from CONTRIBUTING.md works in the new repository.

`site.yaml` is written from the options and read back with the same parser `build` uses, so a bad
`--base-url` or `--language` is refused before anything is written.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from string import Template

from .parse import parse_site

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "repo_template"
# The contributor references copied into a new archive: inside the package when installed, in
# docs/ in a source checkout. content-format.md links to check.md, so both travel.
DOCS = next((d for d in (HERE / "docs", HERE.parent / "docs") if (d / "content-format.md").is_file()), HERE / "docs")
COPIED_DOCS = ("content-format.md", "check.md", "versions.md")
SUFFIX = ".tmpl"
PLACEHOLDER_BASE_URL = "https://example.org/"
DEFAULT_DESCRIPTION = "A timeline of events in which every figure and statement is attributed to its source."

# The comment written to requirements.txt when `init` cannot tell where site-builder came from.
REQUIREMENT_TODO = """\
# TODO: add a line naming the site-builder to install. For a Git repository, pin a tag or commit:
#   site-builder @ git+https://HOST/OWNER/site-builder@TAG-OR-COMMIT
# Until there is one, the checks and deployments stop with an error saying so."""


@dataclass(frozen=True)
class Settings:
    title: str
    description: str
    base_url: str
    language: str
    requirement: str | None  # the pip requirement line for site-builder, if known


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Create a new archive repository in DIR: an empty content/ folder ready for events, CI that checks "
        "pull requests and publishes the site, a pre-commit hook, a pull-request template and guides."
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="folder to create (it must not exist or be empty)")
    parser.add_argument("--title", help="the site's title (default: the folder's name)")
    parser.add_argument("--description", default=DEFAULT_DESCRIPTION, help="one or two sentences about the archive")
    parser.add_argument(
        "--base-url",
        default=PLACEHOLDER_BASE_URL,
        help=f"where the site will be published, ending with / (default: {PLACEHOLDER_BASE_URL}, to be changed)",
    )
    parser.add_argument("--language", default="en", help="the site's language, a BCP 47 tag (default: en)")
    parser.add_argument(
        "--requirement",
        metavar="SPEC",
        help="pip requirement for site-builder, written to requirements.txt for CI "
        "(default: this installation, when it was installed from an https Git URL)",
    )
    parser.add_argument("--no-git", action="store_true", help="do not run `git init` in DIR")


def _error(message: str) -> int:
    print(f"site-builder init: error: {message}", file=sys.stderr)
    return 2


def requirement_from_direct_url(data: dict[str, object]) -> str | None:
    """The requirement that reinstalls a distribution from its PEP 610 record, if CI can reach it.

    Only a Git URL over https qualifies, pinned to the installed commit: a local folder or file
    exists only on this machine, and a name on a package index could be someone else's package.
    """
    url, vcs_info = data.get("url"), data.get("vcs_info")
    if not isinstance(url, str) or not isinstance(vcs_info, dict) or not url.startswith("https://"):
        return None
    commit = vcs_info.get("commit_id")
    if vcs_info.get("vcs") != "git" or not isinstance(commit, str) or not commit:
        return None
    subdirectory = data.get("subdirectory")
    fragment = f"#subdirectory={subdirectory}" if isinstance(subdirectory, str) and subdirectory else ""
    return f"site-builder @ git+{url}@{commit}{fragment}"


def installed_requirement() -> str | None:
    """How this installation of site-builder can be installed again in CI, if that can be known."""
    try:
        raw = metadata.distribution("site-builder").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return requirement_from_direct_url(data) if isinstance(data, dict) else None


def _values(settings: Settings) -> dict[str, str]:
    """What `${name}` stands for in the `.tmpl` files."""
    return {
        "title": settings.title,
        "title_yaml": yaml_text(settings.title),
        "description_yaml": yaml_text(settings.description),
        "base_url_yaml": yaml_text(settings.base_url),
        "language_yaml": yaml_text(settings.language),
        "requirement": settings.requirement or REQUIREMENT_TODO,
    }


def _render(source: Path, values: dict[str, str]) -> str:
    return Template(source.read_text(encoding="utf-8")).substitute(values)


def yaml_text(value: str) -> str:
    """`value` as a YAML scalar that site-builder reads back as exactly `value`: plain if it can be."""
    probe = f"title: {value}\ndescription: x\nbase_url: https://example.org/\n"
    site, problems = parse_site(probe, "site.yaml")
    if value and "\n" not in value and not problems and site is not None and site.title == value:
        return value
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _emptiness_problem(directory: Path) -> str | None:
    if not directory.exists():
        return None
    if not directory.is_dir():
        return f"{directory} exists and is not a folder"
    entries = sorted(p.name for p in directory.iterdir())
    if entries and entries != [".git"]:  # a fresh clone of an empty repository is fine
        return f"{directory} is not empty; give a new or empty folder"
    return None


def template_files() -> list[tuple[Path, str]]:
    """Every template file and the path it is written to, relative to the new repository."""
    files = []
    for path in sorted(TEMPLATE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(TEMPLATE).as_posix()
            files.append((path, rel.removesuffix(SUFFIX)))
    return files


def _doc_copy(name: str) -> str:
    text = (DOCS / name).read_text(encoding="utf-8")
    note = (
        "\n> This is a copy of a reference page of site-builder, written here by "
        "`site-builder init`. Its examples come from site-builder's own example archive, not from "
        "this repository.\n"
    )
    head, newline, rest = text.partition("\n")
    return head + newline + note + rest if head.startswith("# ") else note.lstrip("\n") + "\n" + text


def _git_init(directory: Path) -> str | None:
    """Make `directory` a Git repository on branch main; returns a warning if that was not possible."""
    if (directory / ".git").exists():
        return None
    git = shutil.which("git")
    if git is None:
        return "git was not found, so the folder is not a Git repository yet: run `git init` in it"
    # `git init --initial-branch` needs git 2.28; naming the unborn branch works with any version.
    for command in (
        [git, "init", "-q", str(directory)],
        [git, "-C", str(directory), "symbolic-ref", "HEAD", "refs/heads/main"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"`{' '.join(command[1:])}` failed: {done.stderr.strip()}"
    return None


def create(directory: Path, settings: Settings) -> list[str]:
    """Write the new repository into `directory` (new or empty); returns the files written, relative."""
    values = _values(settings)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for source, rel in template_files():
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.name.endswith(SUFFIX):
            target.write_text(_render(source, values), encoding="utf-8", newline="\n")
        else:
            shutil.copyfile(source, target)
        written.append(rel)
    (directory / "docs").mkdir(parents=True, exist_ok=True)
    for name in COPIED_DOCS:
        (directory / "docs" / name).write_text(_doc_copy(name), encoding="utf-8", newline="\n")
        written.append(f"docs/{name}")
    return sorted(written)


def _settings(args: argparse.Namespace) -> Settings:
    title = args.title if args.title is not None else args.directory.resolve().name
    requirement = args.requirement.strip() if args.requirement else None
    return Settings(
        title=title.strip(),
        description=args.description.strip(),
        base_url=args.base_url.strip(),
        language=args.language.strip(),
        requirement=requirement or installed_requirement(),
    )


def settings_problems(settings: Settings) -> list[str]:
    """Why these settings would not make a valid site.yaml, read back exactly as given; empty if they do."""
    site_yaml = _render(TEMPLATE / "content" / f"site.yaml{SUFFIX}", _values(settings))
    site, problems = parse_site(site_yaml, "site.yaml")
    found = [f"{problem.message} (in content/site.yaml, from the options)" for problem in problems]
    if site is not None and not found:
        given = (settings.title, settings.description, settings.base_url, settings.language)
        if (site.title, site.description, site.base_url, site.language) != given:
            found.append("the title, description, base URL or language would not read back as given")
    if settings.requirement is not None and ("\n" in settings.requirement or "\r" in settings.requirement):
        found.append("--requirement must be one line")
    return found


def _next_steps(args: argparse.Namespace, settings: Settings) -> list[str]:
    steps = []
    if settings.base_url == PLACEHOLDER_BASE_URL:
        steps.append("Set base_url in content/site.yaml to the address the site will be published at.")
    if settings.requirement is None:
        steps.append("Add a line to requirements.txt naming the site-builder to install: CI installs it from there.")
    elif not args.requirement:
        steps.append(f"requirements.txt names this installation of site-builder: {settings.requirement}")
    steps.append("List the archive's regions in content/regions.yaml and rewrite content/pages/about.md.")
    steps.append("Publish it: README.md explains GitHub Pages and GitLab Pages.")
    return steps


def run(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    problem = _emptiness_problem(directory)
    if problem:
        return _error(problem)
    settings = _settings(args)
    problems = settings_problems(settings)
    if problems:
        for message in problems:
            _error(message)
        return 2
    try:
        written = create(directory, settings)
    except OSError as exc:
        print(f"site-builder init: error: {exc}", file=sys.stderr)
        return 1
    warning = None if args.no_git else _git_init(directory)
    print(f"Created a new archive repository in {directory} ({len(written)} files); it has no events yet. Next:")
    for number, step in enumerate(_next_steps(args, settings), 1):
        print(f"  {number}. {step}")
    if warning:
        print(f"site-builder init: warning: {warning}", file=sys.stderr)
    return 0
