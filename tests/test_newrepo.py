"""`site-builder init`, and the CI, hook and template files a content repository gets from it.

The files live in site_builder/repo_template/; this repository uses copies of the CI files itself,
which may differ from the template only in how they install site-builder.
"""

from __future__ import annotations

import glob
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder import cli, newrepo
from site_builder.build import build, check
from site_builder.checkcmd import collect

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "site_builder" / "repo_template"
SUBCOMMANDS = {"build", "check", "new", "schema", "init"}

NEW_REPO_FILES = {
    ".github/pull_request_template.md",
    ".github/workflows/check.yml",
    ".github/workflows/deploy.yml",
    ".gitignore",
    ".gitlab-ci.yml",
    ".pre-commit-config.yaml",
    "CONTRIBUTING.md",
    "README.md",
    "content/events/.gitkeep",
    "content/pages/about.md",
    "content/pages/methodology.md",
    "content/regions.yaml",
    "content/site.yaml",
    "content/sources.yaml",
    "docs/content-format.md",
    "docs/check.md",
    "docs/versions.md",
    "requirements.txt",
}

# The CI and hook files, in the template and in this repository.
TEMPLATE_CI = [*sorted(TEMPLATE.glob(".github/workflows/*.yml")), TEMPLATE / ".gitlab-ci.yml"]
TEMPLATE_CI.append(TEMPLATE / ".pre-commit-config.yaml")
ROOT_CI = [*sorted(REPO.glob(".github/workflows/*.yml")), REPO / ".gitlab-ci.yml", REPO / ".pre-commit-hooks.yaml"]


def init(*argv: str) -> int:
    return cli.main(["init", *argv])


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts}


@pytest.fixture(scope="module")
def new_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("init") / "archive"
    assert init(str(folder), "--title", "Test archive") == 0
    return folder


# --- init ----------------------------------------------------------------------------------------


def test_init_writes_every_file(new_repo: Path) -> None:
    assert files_in(new_repo) == NEW_REPO_FILES
    expected_from_template = {rel for _, rel in newrepo.template_files()} | {
        f"docs/{name}" for name in newrepo.COPIED_DOCS
    }
    assert files_in(new_repo) == expected_from_template
    assert not list((new_repo / "content" / "events").rglob("*.md")), "a new archive starts with no events"
    for source, rel in newrepo.template_files():
        if source.name.endswith(".tmpl"):
            assert "${" not in (new_repo / rel).read_text(encoding="utf-8"), rel


def test_init_makes_a_git_repository_on_main(new_repo: Path) -> None:
    head = subprocess.run(["git", "-C", str(new_repo), "symbolic-ref", "HEAD"], capture_output=True, text=True)
    assert head.stdout.strip() == "refs/heads/main"
    ignored = subprocess.run(
        ["git", "-C", str(new_repo), "check-ignore", "output/index.html", "public/index.html"],
        capture_output=True,
        text=True,
    )
    assert ignored.stdout.split() == ["output/index.html", "public/index.html"]


def test_new_repo_checks_and_builds(new_repo: Path, tmp_path: Path) -> None:
    content = new_repo / "content"
    archive = check(content)
    assert (archive.site.title, archive.events, archive.regions) == ("Test archive", (), ())
    assert collect(content) == [], "no errors and no warnings"
    assert cli.main(["check", "--content", str(content)]) == 0
    archive, pages = build(content, tmp_path / "output")
    assert pages > 0
    assert "Test archive" in (tmp_path / "output" / "index.html").read_text(encoding="utf-8")
    assert (tmp_path / "output" / "methodology" / "index.html").is_file()


def test_cli_init_then_build_in_a_subprocess(tmp_path: Path) -> None:
    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "site_builder", *argv], cwd=tmp_path, capture_output=True, text=True
        )

    made = run("init", "archive", "--title", "Archive in a subprocess", "--no-git")
    assert made.returncode == 0, made.stderr
    assert not (tmp_path / "archive" / ".git").exists()
    built = run("build", "--content", "archive/content", "--output", "archive/output")
    assert built.returncode == 0, built.stderr
    assert "Archive in a subprocess" in (tmp_path / "archive" / "output" / "index.html").read_text(encoding="utf-8")


def test_site_yaml_reads_back_as_given(tmp_path: Path) -> None:
    title, description = "Coast: 2025 #1", 'A "quoted" description: yes'
    options = [
        "--title",
        title,
        "--description",
        description,
        "--base-url",
        "https://example.org/a/",
        "--language",
        "ar",
    ]
    assert init(str(tmp_path / "a"), *options) == 0
    site = check(tmp_path / "a" / "content").site
    assert (site.title, site.description, site.base_url, site.language) == (
        title,
        description,
        "https://example.org/a/",
        "ar",
    )


def test_title_defaults_to_the_folder_name(tmp_path: Path) -> None:
    assert init(str(tmp_path / "my-archive"), "--no-git") == 0
    assert check(tmp_path / "my-archive" / "content").site.title == "my-archive"


def test_refuses_a_non_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    assert init(str(tmp_path)) == 2
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    assert init(str(tmp_path / "file")) == 2


def test_accepts_an_empty_folder_and_a_fresh_clone(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert init(str(tmp_path / "empty")) == 0
    subprocess.run(["git", "init", "-q", str(tmp_path / "clone")], check=True)
    assert init(str(tmp_path / "clone")) == 0
    assert (tmp_path / "clone" / "content" / "site.yaml").is_file()


@pytest.mark.parametrize("option", [["--base-url", "ftp://example.org/"], ["--language", "not a tag"], ["--title", ""]])
def test_bad_options_write_nothing(tmp_path: Path, option: list[str]) -> None:
    assert init(str(tmp_path / "new"), *option) == 2
    assert not (tmp_path / "new").exists()


def _requirement_lines(text: str) -> list[str]:
    """What the CI guard (`grep -q '^[^#[:space:]]' requirements.txt`) counts as a requirement."""
    return [line for line in text.splitlines() if re.match(r"[^#\s]", line)]


def test_requirements_txt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = "site-builder @ git+https://git.example/owner/site-builder@v1.0"
    assert init(str(tmp_path / "given"), "--requirement", spec) == 0
    assert _requirement_lines((tmp_path / "given" / "requirements.txt").read_text(encoding="utf-8")) == [spec]
    monkeypatch.setattr(newrepo, "installed_requirement", lambda: None)
    assert init(str(tmp_path / "unknown")) == 0
    assert _requirement_lines((tmp_path / "unknown" / "requirements.txt").read_text(encoding="utf-8")) == []


def test_requirement_from_direct_url() -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    git = {"url": "https://git.example/owner/site-builder.git", "vcs_info": {"vcs": "git", "commit_id": commit}}
    assert (
        newrepo.requirement_from_direct_url(git)
        == f"site-builder @ git+https://git.example/owner/site-builder.git@{commit}"
    )
    sub = {**git, "subdirectory": "tool"}
    assert newrepo.requirement_from_direct_url(sub) == f"site-builder @ git+{git['url']}@{commit}#subdirectory=tool"
    assert newrepo.requirement_from_direct_url({"url": "file:///home/me/site-builder", "dir_info": {}}) is None
    assert newrepo.requirement_from_direct_url({**git, "url": "file:///home/me/site-builder"}) is None
    assert newrepo.requirement_from_direct_url({"url": "https://x/site_builder.whl", "archive_info": {}}) is None


# --- the CI, hook and template files ---------------------------------------------------------------


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def commands(path: Path) -> list[str]:
    """Every shell command line in a workflow, GitLab CI or pre-commit file."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("run", "script", "before_script", "after_script"):
                    for item in value if isinstance(value, list) else [value]:
                        found.extend(str(item).splitlines())
                elif key == "entry":
                    arguments = " content/site.yaml" if node.get("pass_filenames", True) else ""
                    found.append(str(value) + arguments)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(load(path))
    return found


def invocations(path: Path) -> list[list[str]]:
    """The arguments of every `site-builder …` command the file runs."""
    out = []
    for line in commands(path):
        words = shlex.split(line, comments=True)
        for i, word in enumerate(words):
            if word == "site-builder" or word.endswith("/site-builder"):
                rest = words[i + 1 :]
                end = next((j for j, w in enumerate(rest) if w in ("&&", "||", ";", "|")), len(rest))
                out.append(rest[:end])
    return out


@pytest.mark.parametrize("path", TEMPLATE_CI + ROOT_CI, ids=lambda p: p.relative_to(REPO).as_posix())
def test_ci_files_parse_and_run_real_subcommands(path: Path) -> None:
    assert isinstance(load(path), dict | list)
    calls = invocations(path)
    assert calls, "every CI and hook file runs site-builder"
    parser = cli._parser()
    for argv in calls:
        assert argv and argv[0] in SUBCOMMANDS and argv[0] in {"build", *cli.COMMANDS}, argv
        parser.parse_args(argv)  # exits (failing the test) on an option that does not exist


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # PyYAML reads the key `on` as True
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


@pytest.mark.parametrize("root", [TEMPLATE, REPO], ids=["template", "root"])
def test_workflows_check_pull_requests_and_deploy_main(root: Path) -> None:
    workflows = {p.name: load(p) for p in sorted(root.glob(".github/workflows/*.yml"))}
    assert set(workflows) == {"check.yml", "deploy.yml"}
    triggers = [_triggers(w) for w in workflows.values()]
    assert any("pull_request" in t for t in triggers)
    assert any("main" in ((t.get("push") or {}).get("branches") or []) for t in triggers)

    check_wf = workflows["check.yml"]
    assert "pull_request" in _triggers(check_wf) and "pull_request_target" not in _triggers(check_wf)
    assert check_wf["permissions"] == {"contents": "read"}
    runs = invocations(root / ".github/workflows/check.yml")
    assert ["check", "--format", "github"] in runs
    assert any(argv[0] == "build" for argv in runs)

    deploy = workflows["deploy.yml"]
    assert _triggers(deploy)["push"]["branches"] == ["main"]
    steps = [step for job in deploy["jobs"].values() for step in job["steps"]]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert "actions/upload-pages-artifact" in uses and "actions/deploy-pages" in uses
    job = next(j for j in deploy["jobs"].values() if any("deploy-pages" in s.get("uses", "") for s in j["steps"]))
    assert job["permissions"] == {"pages": "write", "id-token": "write"}
    assert job["environment"]["name"] == "github-pages"
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # entry histories and tags need the whole history
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert ["build", "--versions", "--content", "content", "--output", upload["with"]["path"]] in invocations(
        root / ".github/workflows/deploy.yml"
    )


@pytest.mark.parametrize("root", [TEMPLATE, REPO], ids=["template", "root"])
def test_gitlab_ci_checks_merge_requests_and_publishes_pages(root: Path) -> None:
    ci = load(root / ".gitlab-ci.yml")
    check_job = ci["check"]
    assert check_job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert [argv[0] for argv in map(shlex.split, check_job["script"])] == ["site-builder", "site-builder"]
    assert shlex.split(check_job["script"][0])[1] == "check" and shlex.split(check_job["script"][1])[1] == "build"
    pages = ci["pages"]
    assert pages["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    assert pages["script"] == ["site-builder build --versions --content content --output public"]
    assert ci["variables"]["GIT_DEPTH"] == "0"  # entry histories and tags need the whole history
    assert pages["artifacts"]["paths"] == ["public"]


def test_pre_commit_hooks() -> None:
    hooks = {hook["id"]: hook for hook in load(REPO / ".pre-commit-hooks.yaml")}
    assert set(hooks) == {"site-builder-check", "site-builder-check-changed"}
    whole = hooks["site-builder-check"]
    assert (whole["language"], whole["entry"], whole["pass_filenames"], whole["files"]) == (
        "python",
        "site-builder check",
        False,
        "^content/",
    )
    changed = hooks["site-builder-check-changed"]
    assert (changed["language"], changed["entry"], changed.get("pass_filenames", True)) == (
        "python",
        "site-builder check",
        True,
    )
    local = load(TEMPLATE / ".pre-commit-config.yaml")["repos"][0]
    assert local["repo"] == "local"
    hook = local["hooks"][0]
    assert (hook["language"], hook["entry"], hook["pass_filenames"], hook["files"]) == (
        "system",
        "site-builder check",
        False,
        "^content/",
    )


# --- this repository's copies --------------------------------------------------------------------


def _without_install(text: str) -> str:
    """The file without how it installs site-builder: the workflow step, or GitLab's before_script."""
    out, skipping = [], None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if skipping is not None:
            if line.strip() and (indent < skipping or (indent == skipping and line.lstrip().startswith("- "))):
                skipping = None
            else:
                continue
        if line.strip() in ("- name: Install site-builder", "before_script:"):
            skipping = indent
            out.append(line)
            continue
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("rel", [".github/workflows/check.yml", ".github/workflows/deploy.yml", ".gitlab-ci.yml"])
def test_root_ci_files_differ_from_the_template_only_in_installing(rel: str) -> None:
    ours, template = (REPO / rel).read_text(encoding="utf-8"), (TEMPLATE / rel).read_text(encoding="utf-8")
    assert ours != template
    assert "pip install ." in ours and "pip install -r requirements.txt" in template
    assert _without_install(ours) == _without_install(template)


@pytest.mark.parametrize("rel", [".github/pull_request_template.md", "CONTRIBUTING.md"])
def test_root_documents_are_the_templates(rel: str) -> None:
    assert (REPO / rel).read_text(encoding="utf-8") == (TEMPLATE / rel).read_text(encoding="utf-8")


def test_root_workflows_are_the_templates() -> None:
    assert {p.name for p in REPO.glob(".github/workflows/*.yml")} == {
        p.name for p in TEMPLATE.glob(".github/workflows/*.yml")
    }


# --- documents and packaging ---------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def broken_links(path: Path) -> list[str]:
    """Relative links and same-file anchors in a Markdown file that lead nowhere."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    anchors = {_slug(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    text = re.sub(r"`[^`\n]*`", "", text)  # code is not a link
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        if (path.parent / file).exists() if file else anchor in anchors:
            continue
        broken.append(target)
    return broken


def test_new_repo_documents_link_to_what_exists(new_repo: Path) -> None:
    for rel in (
        "README.md",
        "CONTRIBUTING.md",
        ".github/pull_request_template.md",
        "docs/content-format.md",
        "docs/check.md",
        "docs/versions.md",
    ):
        assert broken_links(new_repo / rel) == [], rel


def test_this_repository_documents_link_to_what_exists() -> None:
    for rel in ("CONTRIBUTING.md", "docs/contributing.md"):
        assert broken_links(REPO / rel) == [], rel


def test_package_data_ships_the_theme_the_template_and_the_format() -> None:
    """The [tool.setuptools] globs match every file `build` and `init` read (as setuptools globs them)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    folders = {"site_builder": REPO / "site_builder", **{k: REPO / v for k, v in config["package-dir"].items()}}
    assert set(folders) <= set(config["packages"])
    shipped = set()
    for package, patterns in config["package-data"].items():
        for pattern in patterns:
            for match in glob.glob(pattern, root_dir=folders[package], recursive=True):
                shipped.add((folders[package] / match).resolve())
    needed = {p.resolve() for p in TEMPLATE.rglob("*") if p.is_file()}
    needed |= {p.resolve() for p in (REPO / "themes").rglob("*") if p.is_file()}
    needed.add((REPO / "docs" / "content-format.md").resolve())
    assert sorted(map(str, needed - shipped)) == []
