"""`site-builder bundle`, `verify` and `build --bundle`: a reproducible BagIt zip, and tampering found."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import EXAMPLE, MINIMAL_SITE, event, write_tree

from site_builder.build import build
from site_builder.bundle import BundleError, bundle_folder, bundle_name, decode_path, encode_path
from site_builder.cli import main
from site_builder.write import MARKER

# Test data, not real events.
CONTENT = {
    **MINIMAL_SITE,
    "events/2025/2025-03-07-first.md": event("First event"),
    "events/2025/2025-03-09-second.md": event("Second event", "2025-03-09"),
}
NAME = "test"  # from MINIMAL_SITE's base_url, https://example.org/test/


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("content") / "content", CONTENT)


@pytest.fixture(scope="module")
def site(content: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("site") / "output"
    build(content, output)
    return output


@pytest.fixture(scope="module")
def bundled(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target, _, _ = bundle_folder(site, tmp_path_factory.mktemp("bundle") / f"{NAME}.zip")
    return target


def verify(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["verify", str(path)])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


def rewrite(source: Path, target: Path, changes: dict[str, bytes | None]) -> None:
    """Copy a zip entry by entry; `changes` maps a name to new bytes, or None to drop it (new names are added)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = changes.get(info.filename, old.read(info))
            if data is not None:
                new.writestr(info, data)
        for name, data in changes.items():
            if name not in old.namelist() and data is not None:
                new.writestr(name, data)


# --- the bundle ---------------------------------------------------------------------------------


def test_two_bundles_of_one_site_are_byte_identical(site: Path, bundled: Path, tmp_path: Path) -> None:
    again, _, digest = bundle_folder(site, tmp_path / "again.zip")
    assert again.read_bytes() == bundled.read_bytes()
    assert (tmp_path / "again.zip.sha256").read_text() == f"{digest}  again.zip\n"
    assert digest == hashlib.sha256(bundled.read_bytes()).hexdigest()


def test_bundles_of_two_builds_of_one_content_are_byte_identical(content: Path, bundled: Path, tmp_path: Path) -> None:
    build(content, tmp_path / "elsewhere")
    target, _, _ = bundle_folder(tmp_path / "elsewhere")
    assert target == tmp_path / f"{NAME}.zip"  # beside the output folder, named after the archive
    assert target.read_bytes() == bundled.read_bytes()


def test_entries_are_sorted_with_fixed_times_and_permissions(bundled: Path, site: Path) -> None:
    with zipfile.ZipFile(bundled) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert names[:2] == [f"{NAME}/bag-info.txt", f"{NAME}/bagit.txt"]
    assert names[-3:] == [f"{NAME}/index.html", f"{NAME}/manifest-sha256.txt", f"{NAME}/tagmanifest-sha256.txt"]
    assert all(
        i.date_time == (1980, 1, 1, 0, 0, 0)
        and i.external_attr == 0o100644 << 16
        and i.create_system == 3
        and i.compress_type == zipfile.ZIP_DEFLATED
        and i.extra == b""
        for i in infos
    )
    payload = {n.removeprefix(f"{NAME}/data/") for n in names if n.startswith(f"{NAME}/data/")}
    on_disk = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert payload == on_disk - {MARKER}
    assert "events/2025-03-07-first/index.html" in payload and "pagefind/pagefind.js" in payload


def test_source_date_epoch_sets_the_entry_times_and_bagging_date(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1741350896")  # 2025-03-07 12:34:56 UTC
    target, _, _ = bundle_folder(site, tmp_path / "dated.zip")
    with zipfile.ZipFile(target) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2025, 3, 7, 12, 34, 56)}
        assert "Bagging-Date: 2025-03-07\n" in archive.read(f"{NAME}/bag-info.txt").decode()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(BundleError, match="SOURCE_DATE_EPOCH must be a whole number"):
        bundle_folder(site, tmp_path / "dated.zip")


def test_the_bagit_files_parse_and_agree_with_the_payload(bundled: Path) -> None:
    with zipfile.ZipFile(bundled) as archive:

        def read(name: str) -> str:
            return archive.read(f"{NAME}/{name}").decode("utf-8")

        assert read("bagit.txt") == "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
        info = dict(line.split(": ", 1) for line in read("bag-info.txt").splitlines())
        payload = {n.removeprefix(f"{NAME}/"): archive.read(n) for n in archive.namelist() if "/data/" in n}
        assert info == {
            "External-Description": "Test archive",
            "External-Identifier": "https://example.org/test/",
            "Payload-Oxum": f"{sum(len(d) for d in payload.values())}.{len(payload)}",
        }  # not in Git: no commit, so no Bagging-Date (never the wall clock)
        manifest = dict(reversed(line.split("  ", 1)) for line in read("manifest-sha256.txt").splitlines())
        assert manifest == {path: hashlib.sha256(data).hexdigest() for path, data in payload.items()}
        tags = dict(reversed(line.split("  ", 1)) for line in read("tagmanifest-sha256.txt").splitlines())
        assert tags == {
            name: hashlib.sha256(archive.read(f"{NAME}/{name}")).hexdigest()
            for name in ("bag-info.txt", "bagit.txt", "index.html", "manifest-sha256.txt")
        }
        opener = BeautifulSoup(read("index.html"), "html.parser")
        assert opener.find("meta", attrs={"http-equiv": "refresh"})["content"] == "0; url=data/index.html"
        assert opener.a["href"] == "data/index.html" and opener.a.text == "Test archive"


def test_bag_info_names_the_release_and_commit_and_dates_the_commit(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=EXAMPLE, capture_output=True, text=True, check=True).stdout.strip()

    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    about = json.loads((copy / "data/events.json").read_text(encoding="utf-8"))
    about.update(commit=git("rev-parse", "HEAD"), release="v1.0")
    (copy / "data/events.json").write_text(json.dumps(about), encoding="utf-8")
    monkeypatch.chdir(EXAMPLE)  # the output is in no repository; the commit is found in the current folder's
    target, _, _ = bundle_folder(copy, tmp_path / "x.zip")
    with zipfile.ZipFile(target) as archive:
        info = dict(line.split(": ", 1) for line in archive.read(f"{NAME}/bag-info.txt").decode().splitlines())
    assert info["Archive-Commit"] == about["commit"] and info["Archive-Release"] == "v1.0"
    assert info["Bagging-Date"] == git("show", "-s", "--format=%cs", "HEAD")


def test_manifest_paths_are_percent_encoded_for_cr_lf_and_percent() -> None:
    assert encode_path("data/a%b\nc\rd") == "data/a%25b%0Ac%0Dd"
    assert decode_path("data/a%25b%0Ac%0dd%250A") == "data/a%b\nc\rd%0A"


@pytest.mark.parametrize(
    ("title", "base_url", "name"),
    [
        ("Coastal Syria", "https://example.org/coastal-syria-2025/", "coastal-syria-2025"),
        ("Sūriya: the coast", "https://example.org/", "suriya-the-coast"),
        ("الساحل السوري", "https://example.org/", "archive"),
    ],
)
def test_the_bundle_is_named_after_the_archive(title: str, base_url: str, name: str) -> None:
    assert bundle_name(title, base_url) == name


# --- verify -------------------------------------------------------------------------------------


def test_an_intact_bundle_verifies_zipped_and_unzipped(
    bundled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = verify(bundled, capsys)
    assert code == 0 and lines[0].startswith(f"verify: {bundled} is intact: ")
    with zipfile.ZipFile(bundled) as archive:
        archive.extractall(tmp_path)
    assert verify(tmp_path / NAME, capsys)[0] == 0  # the bag's own folder
    assert verify(tmp_path, capsys)[0] == 0  # the folder it was unzipped into


def test_verify_names_each_changed_missing_and_extra_file_in_a_folder(
    bundled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with zipfile.ZipFile(bundled) as archive:
        archive.extractall(tmp_path)
    bag = tmp_path / NAME
    page = bag / "data/events/2025-03-07-first/index.html"
    data = bytearray(page.read_bytes())
    data[100] ^= 1  # one bit of one byte
    page.write_bytes(bytes(data))
    (bag / "data/tags/index.html").unlink()
    (bag / "data/events/extra.html").write_text("added\n")
    code, lines = verify(tmp_path, capsys)
    assert code == 1
    assert lines[:3] == [
        "verify: changed: data/events/2025-03-07-first/index.html",
        "verify: extra: data/events/extra.html",
        "verify: missing: data/tags/index.html",
    ]
    assert lines[3].startswith("verify: Payload-Oxum says ")
    assert lines[4] == f"verify: {tmp_path}: 4 differences: 1 changed, 1 extra, 1 missing."


def test_verify_names_each_changed_missing_and_extra_file_in_a_zip(
    bundled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with zipfile.ZipFile(bundled) as archive:
        page = archive.read(f"{NAME}/data/events/2025-03-07-first/index.html")
        oxum = archive.read(f"{NAME}/bag-info.txt")
    tampered = tmp_path / "tampered.zip"
    rewrite(
        bundled,
        tampered,
        {
            f"{NAME}/data/events/2025-03-07-first/index.html": page.replace(b"First event", b"First Event"),
            f"{NAME}/data/tags/index.html": None,
            f"{NAME}/data/extra.html": b"added\n",
            f"{NAME}/bag-info.txt": oxum + b"Contact-Name: someone\n",
            "stray.txt": b"outside the bag\n",
        },
    )
    code, lines = verify(tampered, capsys)
    assert code == 1
    assert lines[:6] == [
        "verify: changed: bag-info.txt",
        "verify: changed: data/events/2025-03-07-first/index.html",
        "verify: extra: data/extra.html",
        "verify: missing: data/tags/index.html",
        "verify: extra: stray.txt (outside the bag's folder)",
        lines[5],
    ]
    assert lines[5].startswith("verify: Payload-Oxum says ")


def test_a_zip_slip_entry_is_reported_never_extracted(
    bundled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = tmp_path / "inner" / "evil.zip"
    evil.parent.mkdir()
    rewrite(bundled, evil, {f"{NAME}/../../escaped.txt": b"x\n", "/etc/absolute.txt": b"x\n"})
    code, lines = verify(evil, capsys)
    assert code == 1
    assert "verify: unsafe: /etc/absolute.txt (an absolute path)" in lines
    assert f"verify: unsafe: {NAME}/../../escaped.txt (an empty, '.' or '..' path segment)" in lines
    assert not list(tmp_path.rglob("escaped.txt"))


def test_a_damaged_zip_and_a_wrong_checksum_file_are_reported(
    bundled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / f"{NAME}.zip"
    shutil.copy(bundled, damaged)
    with zipfile.ZipFile(damaged) as archive:
        info = archive.getinfo(f"{NAME}/data/events/2025-03-07-first/index.html")
    data = bytearray(damaged.read_bytes())
    data[info.header_offset + 30 + len(info.filename) + 10] ^= 0xFF  # inside the compressed bytes
    damaged.write_bytes(bytes(data))
    code, lines = verify(damaged, capsys)
    assert code == 1 and lines[0].startswith("verify: unreadable: data/events/2025-03-07-first/index.html (")
    (tmp_path / f"{NAME}.zip.sha256").write_text(f"{'0' * 64}  {NAME}.zip\n")
    code, lines = verify(damaged, capsys)
    assert f"verify: changed: {NAME}.zip (its SHA-256 is not the one in {NAME}.zip.sha256)" in lines


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"not a zip"), "is not a readable zip file"),
        (lambda p: None, "does not exist"),
        (lambda p: p.mkdir(), "holds no BagIt bag"),
    ],
)
def test_unreadable_input_is_one_error_line(
    make: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "input.zip"
    make(path)  # type: ignore[operator]
    code, lines = verify(path, capsys)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("site-builder: error: ") and message in lines[0]


# --- the bundle command's refusals ---------------------------------------------------------------


def test_bundle_refuses_a_folder_that_is_not_a_built_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", "--output", str(tmp_path / "missing")]) == 1
    (tmp_path / "plain").mkdir()
    assert main(["bundle", "--output", str(tmp_path / "plain")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"site-builder: error: {tmp_path / 'missing'} is not a folder; build the site first (site-builder build)",
        f"site-builder: error: {tmp_path / 'plain'} is not a site built by site-builder (no {MARKER} or data/events.json)",
    ]


def test_bundle_refuses_to_write_inside_the_site_and_refuses_symlinks(site: Path, tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="must not be written inside the site"):
        bundle_folder(site, site / "x.zip")
    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    os.symlink("/etc/passwd", copy / "events" / "passwd")
    with pytest.raises(BundleError, match="is a symbolic link"):
        bundle_folder(copy, tmp_path / "x.zip")
    assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.glob(".x.zip*"))


def test_bundle_command_prints_what_it_wrote(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", "--output", str(site), "--to", str(tmp_path / "out.zip")]) == 0
    out = capsys.readouterr().out
    digest = hashlib.sha256((tmp_path / "out.zip").read_bytes()).hexdigest()
    assert f"into {tmp_path / 'out.zip'} and out.zip.sha256" in out and f"SHA-256 {digest}" in out


# --- build --bundle -----------------------------------------------------------------------------


def test_build_with_bundle_links_it_from_the_home_page(
    content: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "output"
    build(content, output, bundle=True)
    home = BeautifulSoup((output / "index.html").read_text(encoding="utf-8"), "html.parser")
    section = home.find("section", attrs={"aria-labelledby": "home-download"})
    assert section is not None and section.h2.text == "Download the whole archive"
    assert [a["href"] for a in section.find_all("a")] == [f"download/{NAME}.zip", f"download/{NAME}.zip.sha256"]
    assert f"site-builder verify {NAME}.zip" in section.pre.text
    zipped = output / "download" / f"{NAME}.zip"
    digest = hashlib.sha256(zipped.read_bytes()).hexdigest()
    assert (output / "download" / f"{NAME}.zip.sha256").read_text() == f"{digest}  {NAME}.zip\n"
    with zipfile.ZipFile(zipped) as archive:
        names = archive.namelist()
    assert f"{NAME}/data/index.html" in names
    assert not [n for n in names if n.startswith(f"{NAME}/data/download/") or n.endswith(MARKER)]
    assert verify(zipped, capsys)[0] == 0


def test_the_home_page_has_no_download_section_without_bundle(site: Path) -> None:
    home = BeautifulSoup((site / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert home.find(id="home-download") is None
    assert not (site / "download").exists()
