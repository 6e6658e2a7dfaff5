"""The hostile-input corpus in tests/hostile/: every fixture is built over a good archive.

Each fixture (format: tests/hostile/README.md) writes a few files over a minimal good archive
whose site was built before, then builds through the command line. Whatever the input: no
traceback, and either the build fails with every error naming its file and a line (the ones the
fixture expects among them) and the previous output left byte for byte, or it succeeds and what
the content holds is inert on every page (no script, frame, image or handler from it, no script
link) and shown as text. All fixture data is SYNTHETIC.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import MINIMAL_SITE, REPO, event, write_tree

from site_builder.build import build
from site_builder.cli import main

CORPUS = Path(__file__).parent / "hostile"
CATEGORIES = ("markup", "yaml", "encoding", "paths", "values")
MINIMUM = 60

# The good archive every fixture writes over (SYNTHETIC test data, no real events).
BASE = {
    **MINIMAL_SITE,
    "events/2025/2025-03-07-base.md": event("Base event"),
    "pages/about.md": "---\ntitle: About\n---\nA test archive.\n",
}
OUTSIDE = {
    "secret.md": event("Outside the content folder"),
    "2025/2025-03-07-outside.md": event("Outside"),
    "regions.yaml": MINIMAL_SITE["regions.yaml"],
}


# --- the fixture format ---------------------------------------------------------------------------


@dataclass
class Fixture:
    name: str
    title: str = ""
    category: str = ""
    expect: str = ""
    errors: list[tuple[str, int, str]] = field(default_factory=list)
    warnings: list[tuple[str, int, str]] = field(default_factory=list)
    no_warning: list[str] = field(default_factory=list)
    visible: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    page: str = ""
    search: bool = False
    slow: bool = False
    newline: str = "\n"
    files: dict[str, bytes] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)


_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|([\\ntr])|(.|$))")
_LOCATED = re.compile(r"(?P<path>[^:\s]+):(?P<line>\d+):(?: (?P<text>.*))?")
_NEWLINES = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}


def decode(text: str, newline: str = "\n") -> bytes:
    """Fixture text to bytes: UTF-8, with the escapes of the README (\\xHH is a raw byte)."""
    out = bytearray()
    at = 0
    for match in _ESCAPE.finditer(text):
        out += text[at : match.start()].replace("\n", newline).encode("utf-8")
        byte, u4, u8, simple, bad = match.groups()
        if bad is not None:
            raise ValueError(f"unknown escape '\\{bad}' (write '\\\\' for a backslash)")
        if byte is not None:
            out.append(int(byte, 16))
        elif u4 or u8:
            out += chr(int(u4 or u8, 16)).encode("utf-8", "surrogatepass")
        else:
            out += {"\\": b"\\", "n": newline.encode(), "t": b"\t", "r": b"\r"}[simple]
        at = match.end()
    out += text[at:].replace("\n", newline).encode("utf-8")
    return bytes(out)


def _content(lines: list[str], newline: str) -> bytes:
    """A file section's lines (trailing blank lines dropped); `\\repeat N: TEXT` lines expanded."""
    while lines and not lines[-1].strip():
        lines.pop()
    out = bytearray()
    for line in lines:
        repeat = re.fullmatch(r"\\repeat (\d+): (.*)", line)
        if repeat:
            out += decode(repeat.group(2), newline) * int(repeat.group(1))
        else:
            out += decode(line + "\n", newline)
    return bytes(out)


def _located(value: str, name: str) -> tuple[str, int, str]:
    match = _LOCATED.fullmatch(value)
    if match is None:
        raise ValueError(f"{name}: expected 'path:line: text', got {value!r}")
    return decode(match["path"]).decode("utf-8"), int(match["line"]), decode(match["text"] or "").decode("utf-8")


def parse_fixture(path: Path) -> Fixture:
    fixture = Fixture(path.stem)
    lines = path.read_text(encoding="utf-8").split("\n")
    head = []
    while lines and not lines[0].startswith("=== "):
        head.append(lines.pop(0))
    for line in head:
        if not line.strip() or line.startswith("#"):
            continue
        key, _, value = line.partition(": ")
        if key == "error":
            fixture.errors.append(_located(value, path.name))
        elif key == "warning":
            fixture.warnings.append(_located(value, path.name))
        elif key == "no-warning":
            fixture.no_warning.append(decode(value).decode("utf-8"))
        elif key == "visible":
            fixture.visible.append(decode(value).decode("utf-8"))
        elif key == "link":
            fixture.links.append(value)
        elif key in ("search", "slow"):
            setattr(fixture, key, value == "yes")
        elif key == "newline":
            fixture.newline = _NEWLINES[value]
        elif key in ("title", "category", "expect", "page"):
            setattr(fixture, key, value)
        else:
            raise ValueError(f"{path.name}: unknown key {key!r}")
    while lines:
        header = lines.pop(0)
        body = []
        while lines and not lines[0].startswith("=== "):
            body.append(lines.pop(0))
        kind, _, rest = header[4:].partition(" ")
        if kind == "file":
            fixture.files[decode(rest).decode("utf-8")] = _content(body, fixture.newline)
        elif kind == "symlink":
            link, _, target = rest.partition(" -> ")
            fixture.symlinks[decode(link).decode("utf-8")] = target
        elif header.strip():
            raise ValueError(f"{path.name}: unknown section {header!r}")
    return fixture


FIXTURES = sorted(CORPUS.glob("*.txt"))


# --- building ---------------------------------------------------------------------------------------


def digests(folder: Path) -> dict[str, str]:
    """Every file under `folder` (links as their target) by its SHA-256."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="session")
def good_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The base archive's site, built once (with search, as `build` does by default)."""
    root = tmp_path_factory.mktemp("hostile-base")
    write_tree(root / "content", BASE)
    build(root / "content", root / "output", cache_dir=root / "cache")
    return root / "output", digests(root / "output")


def write_fixture(fixture: Fixture, root: Path) -> Path:
    content = write_tree(root / "content", BASE)
    outside = write_tree(root / "outside", OUTSIDE)
    for rel, data in fixture.files.items():
        path = content / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for rel, target in fixture.symlinks.items():
        path = content / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target.replace("{outside}", str(outside)))
    return content


def run_build(fixture: Fixture, content: Path, output: Path, cache: Path, capsys: pytest.CaptureFixture[str]):
    """(exit code, stderr) of `site-builder build`: in this process, or a child for slow input."""
    argv = ["build", "--content", str(content), "--output", str(output), "--cache", str(cache), "--quiet"]
    argv += [] if fixture.search else ["--no-pagefind"]  # the offline index reads the hostile text too
    if fixture.slow:
        done = subprocess.run(
            [sys.executable, "-m", "site_builder", *argv],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            check=False,
        )
        return done.returncode, done.stderr
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's; never an exception of the build itself
        code = exit.code if isinstance(exit.code, int) else 1
    return code, capsys.readouterr().err


def relative(path: str, content: Path) -> str:
    prefix = content.as_posix().rstrip("/") + "/"
    assert path.startswith(prefix) or path == prefix[:-1], f"{path} is not in the content folder"
    return path[len(prefix) :]


# --- what inert means ---------------------------------------------------------------------------

# Elements the site's own pages never have: from content, each would load or run something.
FORBIDDEN = {"iframe", "frame", "frameset", "img", "image", "svg", "math", "object", "embed", "video", "audio"}
FORBIDDEN |= {"source", "picture", "applet", "base", "button", "textarea"}
# ... but for these, on the pages of the theme that have them.
THEME_ONLY = {"style": {"404.html"}, "form": {"search/index.html"}, "input": {"search/index.html"}}
_SCRIPTS = re.compile(r"(\.\./)*assets/[a-z-]+\.js")
_LOADS = {"stylesheet", "icon", "preload", "prefetch", "modulepreload", "manifest", "preconnect"}
_URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "srcset", "data", "poster", "background")


def script_scheme(url: str) -> bool:
    """Whether a browser would read `url` as a javascript:, vbscript: or data: URL."""
    url = re.sub(r"[\t\n\r]", "", url).strip("\x00 \x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f").lower()
    return url.startswith(("javascript:", "vbscript:", "data:"))


def inert_problems(output: Path) -> list[str]:
    """What in the built site is not inert; empty when all is well."""
    found = []
    for path in sorted(output.rglob("*.html")):
        rel = path.relative_to(output).as_posix()
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(True):
            if tag.name in FORBIDDEN or (tag.name in THEME_ONLY and rel not in THEME_ONLY[tag.name]):
                found.append(f"{rel}: <{tag.name}> element")
            elsewhere = re.match(r"[a-z]+:|//", str(tag.get("href", "")), re.IGNORECASE)
            if tag.name == "link" and _LOADS & set(tag.get("rel", [])) and elsewhere:
                found.append(f"{rel}: <link> that loads from elsewhere: {tag}")
            if tag.name == "script" and not _SCRIPTS.fullmatch(str(tag.get("src", ""))):
                found.append(f"{rel}: <script> that is not one of the site's own files: {tag}")
            if tag.name == "meta" and str(tag.get("http-equiv", "")).lower() == "refresh":
                found.append(f"{rel}: <meta http-equiv=refresh>")
            for name, value in tag.attrs.items():
                if name.lower().startswith("on"):
                    found.append(f"{rel}: {name}= attribute on <{tag.name}>")
                if name.lower() in _URL_ATTRIBUTES and script_scheme(str(value)):
                    found.append(f"{rel}: {name}={value!r} on <{tag.name}>")
    for path in sorted(output.rglob("*.json")):
        json.loads(path.read_text(encoding="utf-8"))
    for path in sorted([*output.rglob("*.xml"), *output.rglob("*.atom")]):
        ET.parse(path)
    return found


def page_texts(output: Path, page: str) -> dict[str, BeautifulSoup]:
    paths = [output / page] if page else sorted(output.rglob("*.html"))
    return {
        p.relative_to(output).as_posix(): BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser") for p in paths
    }


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_hostile_input(
    path: Path, good_build: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture = parse_fixture(path)
    good, before = good_build
    output = tmp_path / "output"
    shutil.copytree(good, output, symlinks=True)
    content = write_fixture(fixture, tmp_path)

    code, stderr = run_build(fixture, content, output, tmp_path / "cache", capsys)

    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    if fixture.expect == "errors":
        assert code == 1, f"the build should fail; exit {code}\n{stderr}"
        *problems, closing = lines
        assert re.fullmatch(r"\d+ errors? found; nothing was written\.", closing), stderr
        reported = []
        for line in problems:
            match = re.fullmatch(r"(?P<path>.+?):(?P<line>\d+): error: (?P<message>.+)", line)
            assert match, f"an error without file and line: {line!r}"
            assert int(match["line"]) >= 1, line
            reported.append((relative(match["path"], content), int(match["line"]), match["message"]))
        for rel, line, text in fixture.errors:
            assert any(rel == r and line == n and text in m for r, n, m in reported), (
                f"expected {rel}:{line}: …{text}… among:\n{stderr}"
            )
        assert digests(output) == before, "a failed build changed the previous output"
    else:
        assert fixture.expect == "inert", fixture.expect
        assert code == 0, f"the build should succeed; exit {code}\n{stderr}"
        assert not any(": error:" in line for line in lines), stderr
        assert inert_problems(output) == []
        pages = page_texts(output, fixture.page)
        for text in fixture.visible:
            assert any(text in soup.get_text() for soup in pages.values()), f"{text!r} is not shown as text"
        for url in fixture.links:
            anchors = [a for soup in pages.values() for a in soup.find_all("a", href=url)]
            assert anchors, f"no link to {url}"
            assert all(a.find("img") is None for a in anchors)
    if fixture.warnings or fixture.no_warning:
        capsys.readouterr()
        main(["check", "--content", str(content)])
        out = capsys.readouterr().out
        warned = []
        for line in out.splitlines():
            match = re.fullmatch(r"(?P<path>.+?):(?P<line>\d+)(?::\d+)?: warning: (?P<message>.+)", line)
            if match:
                warned.append((relative(match["path"], content), int(match["line"]), match["message"]))
        for rel, line, text in fixture.warnings:
            assert any(rel == r and line == n and text in m for r, n, m in warned), (
                f"expected warning {rel}:{line}: …{text}… in:\n{out}"
            )
        for text in fixture.no_warning:
            assert not any(text in m for _, _, m in warned), f"an unexpected warning ({text}):\n{out}"


def test_the_corpus_is_large_and_covers_every_category() -> None:
    fixtures = [parse_fixture(path) for path in FIXTURES]
    assert len(fixtures) >= MINIMUM
    by_category = {c: [f.name for f in fixtures if f.category == c] for c in CATEGORIES}
    assert all(f.category in CATEGORIES for f in fixtures), [f.name for f in fixtures if f.category not in CATEGORIES]
    assert all(len(names) >= 8 for names in by_category.values()), {c: len(n) for c, n in by_category.items()}
    for f in fixtures:
        assert f.title and f.expect in ("errors", "inert"), f.name
        assert f.files or f.symlinks, f"{f.name} writes nothing"
        assert f.expect != "errors" or f.errors, f"{f.name} expects errors but names none"
        assert f.name.startswith(f.category + "-"), f"{f.name}: name it {f.category}-…"
    assert any(f.search for f in fixtures), "at least one fixture builds with search"
    assert any(f.slow for f in fixtures), "at least one fixture runs past the Markdown time limit"
    assert any(f.symlinks for f in fixtures)


def test_the_fixture_escapes() -> None:
    assert decode("a\\x00b\\xff\\u202e\\U0001F600\\\\\\n") == b"a\x00b\xff\xe2\x80\xae\xf0\x9f\x98\x80\\\n"
    assert decode("a\nb\n", "\r\n") == b"a\r\nb\r\n"
    assert _content(["\\repeat 3: [", "x", ""], "\n") == b"[[[x\n"
    with pytest.raises(ValueError):
        decode("\\q")


def test_inert_checks_catch_what_they_should(tmp_path: Path) -> None:
    """The checks themselves: each hostile page is caught."""
    for html in (
        "<script>alert(1)</script>",
        '<img src="x">',
        "<p onclick=x>a</p>",
        '<a href=" JaVa\tScript:alert(1)">a</a>',
        '<a href="data:text/html,x">a</a>',
        "<svg></svg>",
        "<iframe></iframe>",
    ):
        (tmp_path / "index.html").write_text(html, encoding="utf-8")
        assert inert_problems(tmp_path), html
    (tmp_path / "index.html").write_text('<script src="../assets/cite.js"></script><a href="java%0Ascript:x">', "utf-8")
    assert inert_problems(tmp_path) == []
