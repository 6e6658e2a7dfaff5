"""markdown.py: CommonMark with raw HTML off, images off and a link allow-list."""

from __future__ import annotations

import random
from html.parser import HTMLParser

import pytest

from site_builder import markdown
from site_builder.markdown import Rendered, is_safe_link, render_body, render_markdown, render_page, unsafe_links

EXTERNAL = 'rel="external noopener noreferrer"'


class Tags(HTMLParser):
    """Every start tag in a piece of HTML, with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))

    def names(self) -> list[str]:
        return [tag for tag, _ in self.found]

    def hrefs(self) -> list[str | None]:
        return [attrs.get("href") for tag, attrs in self.found if tag == "a"]


# --- raw HTML --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
        ("a <b>bold</b> word", "<p>a &lt;b&gt;bold&lt;/b&gt; word</p>\n"),
        ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n"),
        ('<a href="javascript:alert(1)">x</a>', "<p>&lt;a href=&quot;javascript:alert(1)&quot;&gt;x&lt;/a&gt;</p>\n"),
        ("<div>\nblock\n</div>", "<p>&lt;div&gt;\nblock\n&lt;/div&gt;</p>\n"),
        ("<!-- comment -->", "<p>&lt;!-- comment --&gt;</p>\n"),
        ("`<script>`", "<p><code>&lt;script&gt;</code></p>\n"),
    ],
)
def test_raw_html_stays_text(text: str, html: str) -> None:
    assert render_markdown(text) == html


def test_raw_html_creates_no_elements() -> None:
    html = render_markdown("<script>x</script>\n\n<iframe src=https://e.org></iframe>\n\n<style>p{}</style>\n")
    assert set(Tags(html).names()) == {"p"}


# --- links -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("[x](https://example.org/a)", f'<p><a href="https://example.org/a" {EXTERNAL}>x</a></p>\n'),
        ("[x](http://example.org/a)", f'<p><a href="http://example.org/a" {EXTERNAL}>x</a></p>\n'),
        ("[x](HTTPS://example.org/)", f'<p><a href="HTTPS://example.org/" {EXTERNAL}>x</a></p>\n'),
        ("<https://example.org/>", f'<p><a href="https://example.org/" {EXTERNAL}>https://example.org/</a></p>\n'),
        ("[write](mailto:team@example.org)", '<p><a href="mailto:team@example.org">write</a></p>\n'),
        ("[top](#sources)", '<p><a href="#sources">top</a></p>\n'),
        ("[file](../about/index.html)", '<p><a href="../about/index.html">file</a></p>\n'),
        (
            '[t](https://example.org/ "Title")',
            f'<p><a href="https://example.org/" title="Title" {EXTERNAL}>t</a></p>\n',
        ),
    ],
)
def test_safe_links_are_links(text: str, html: str) -> None:
    assert render_markdown(text) == html


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
        "[x](file:///etc/passwd)",
        "[x](ftp://example.org/)",
        "[x](&#106;avascript:alert(1))",
        "[x](javascript&#58;alert(1))",
        "<javascript:alert(1)>",
        "[x][ref]\n\n[ref]: javascript:alert(1)",
    ],
)
def test_unsafe_links_are_not_links(text: str) -> None:
    html = render_markdown(text)
    assert Tags(html).hrefs() == []
    assert "<a" not in html


def test_unsafe_link_is_shown_as_its_text() -> None:
    assert render_markdown("[x](javascript:alert(1))") == "<p>[x](javascript:alert(1))</p>\n"


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("[methodology](../methodology/)", '<p><a href="../methodology/index.html">methodology</a></p>\n'),
        ("[event](../2025-03-07-x/)", '<p><a href="../2025-03-07-x/index.html">event</a></p>\n'),
        ("[root](/about/)", '<p><a href="/about/index.html">root</a></p>\n'),
        ("[part](../about/#team)", '<p><a href="../about/index.html#team">part</a></p>\n'),
        ("[query](../search/?q=x)", '<p><a href="../search/index.html?q=x">query</a></p>\n'),
    ],
)
def test_relative_folder_links_open_the_page_from_disk(text: str, html: str) -> None:
    assert render_markdown(text) == html


def test_relative_and_mailto_links_are_not_marked_external() -> None:
    html = render_markdown("[a](../a/) [b](mailto:b@example.org) [c](https://example.org/)")
    assert [(tag, attrs.get("rel")) for tag, attrs in Tags(html).found if tag == "a"] == [
        ("a", None),
        ("a", None),
        ("a", "external noopener noreferrer"),
    ]


def test_protocol_relative_link_is_external() -> None:
    assert render_markdown("[x](//example.org/)") == f'<p><a href="//example.org/" {EXTERNAL}>x</a></p>\n'


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.org/", True),
        ("http://example.org/", True),
        ("mailto:a@example.org", True),
        ("../about/", True),
        ("#top", True),
        ("", True),
        ("javascript:alert(1)", False),
        ("  JAVASCRIPT:alert(1)", False),
        ("data:text/html,x", False),
        ("vbscript:x", False),
        ("file:///etc/passwd", False),
        ("java\nscript:alert(1)", False),
        ("https://example.org/\x00", False),
    ],
)
def test_is_safe_link(url: str, safe: bool) -> None:
    assert is_safe_link(url) is safe


# --- images ----------------------------------------------------------------------------------


def test_images_are_not_rendered() -> None:
    html = render_markdown("![a photo](https://example.org/photo.jpg)")
    assert "img" not in Tags(html).names()
    assert "<img" not in html


def test_images_in_reference_style_are_not_rendered() -> None:
    html = render_markdown("![a photo][p]\n\n[p]: https://example.org/photo.jpg\n")
    assert "<img" not in html


# --- headings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("# One", "<h2>One</h2>\n"),
        ("## Two", "<h3>Two</h3>\n"),
        ("### Three", "<h4>Three</h4>\n"),
        ("#### Four", "<h5>Four</h5>\n"),
        ("##### Five", "<h6>Five</h6>\n"),
        ("###### Six", "<h6>Six</h6>\n"),
        ("Setext\n======", "<h2>Setext</h2>\n"),
        ("Setext\n------", "<h3>Setext</h3>\n"),
    ],
)
def test_headings_shift_down_one_level(text: str, html: str) -> None:
    assert render_markdown(text) == html


def test_rendering_twice_gives_the_same_headings() -> None:
    assert render_markdown("# Once") == render_markdown("# Once") == "<h2>Once</h2>\n"


def test_ordinary_markdown() -> None:
    assert render_markdown("According to *SOHR*, **1,383** civilians.\n\n- one\n- two\n") == (
        "<p>According to <em>SOHR</em>, <strong>1,383</strong> civilians.</p>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
    )


# --- unsafe_links: where `check` points ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("[x](javascript:alert(1))", [(0, "javascript:alert(1)")]),
        ("Intro.\n\n[x](data:text/html,x)\n", [(2, "data:text/html,x")]),
        ("a\n\nb\n\n- item\n- [y](vbscript:x)\n", [(5, "vbscript:x")]),
        ("# [x](javascript:a)\n", [(0, "javascript:a")]),
        ("<javascript:alert(1)>\n", [(0, "javascript:alert(1)")]),
        ("[a](javascript:a) and [b](data:b)\n", [(0, "javascript:a"), (0, "data:b")]),
        ("[ok](https://example.org/) [ok](../a/) [ok](mailto:a@b.org)\n", []),
        ("`[x](javascript:a)`\n", []),
        ("    [x](javascript:a)\n", []),
        ("```\n[x](javascript:a)\n```\n", []),
    ],
)
def test_unsafe_links(text: str, found: list[tuple[int, str]]) -> None:
    assert unsafe_links(text) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("First line\nsecond [x](javascript:a) line\n", [(1, "javascript:a")]),
        ("> quote\n> [x](javascript:a)\n", [(1, "javascript:a")]),
        ("one\ntwo\nthree [x](data:x)\n", [(2, "data:x")]),
    ],
)
def test_unsafe_links_point_at_the_line_of_the_link(text: str, found: list[tuple[int, str]]) -> None:
    assert unsafe_links(text) == found


# --- render_body: one parse for HTML, text and refused links -----------------------------------


def test_plain_paragraphs() -> None:
    text = 'Synthetic entry. A "quoted" word, it\'s 50% (or so): a | b.\nSecond line.\n\n\nعين مدينة.\n'
    assert render_body(text) == Rendered(
        "<p>Synthetic entry. A &quot;quoted&quot; word, it's 50% (or so): a | b.\nSecond line.</p>\n<p>عين مدينة.</p>\n",
        'Synthetic entry. A "quoted" word, it\'s 50% (or so): a | b.\nSecond line.\n\nعين مدينة.',
        (),
    )


def test_text_leaves_out_link_targets_and_markup() -> None:
    text = "# Title\n\nSee [the *report*](https://e.org/r) and `code`.\n\n- one\n- two\n\n---\n\n    indented\n"
    assert render_body(text).text == "Title\n\nSee the report and code.\n\none\n\ntwo\n\nindented"


def test_refused_links_are_found_with_their_lines() -> None:
    text = "Intro.\n\nSee [x](javascript:a) and\n[y](https://e.org/).\n\nOutro [z](data:b).\n"
    rendered = render_body(text)
    assert rendered.unsafe == ((2, "javascript:a"), (5, "data:b")) == tuple(unsafe_links(text))
    assert Tags(rendered.html).hrefs() == ["https://e.org/"]


def test_no_second_parse_without_a_refused_link(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(markdown, "unsafe_links", lambda text: pytest.fail("parsed twice"))
    assert render_body("See [x](https://e.org/) and <mailto:a@b.org>.\n").unsafe == ()


# Pieces of narratives: plain paragraphs, and blocks and inline syntax of every kind, some that
# look plain (a list after a paragraph, lazy lines, white space the parser trims, ...).
PLAIN = ["Plain words here.", "Two lines\nof text.", 'Quote "x" and \'y\'.', "عين مدينة", "12 people, 3 towns", "a: b | c",
         "Ends with colon:", "x\u00a0y", "1,000 killed", "(see above)", "a-b + c = d", "50% ~ 2"]  # fmt: skip
RICH = ["- item", "- item\n- item2", "1. one\n2. two", "* star", "> quote", "> quote\nlazy", "# Heading", "Setext\n===",
        "Setext\n---", "    code", "    code\n\n\n    more code", "[link](https://x.org/)", "[bad](javascript:x)",
        "<javascript:y>", "**bold** text", "*em*", "`code`", "a\\*b", "&amp; &copy;", "<b>html</b>", "[ref]",
        "[ref]: https://r.org/", "[ref]: javascript:z", "```\nfence", "```", "~~~\nx\n~~~", "  indented two", "   three",
        "\tTab", "line  \nhard break", "- item\n\n  continued", "- a\n\n- b", "1) x", "---", "***", "+ plus",
        "![img](x.png)", "<https://a.org>", "trailing \u2003", "\u00a0lead", "a\r\nb", "\x00nul", "- [x](data:y)",
        "para\n- list interrupts", "para\n    lazy code", "> q\n\ncontinued?", "- l\ncontinued lazily",
        "| a | b |\n|---|---|\n| 1 | 2 |", "2024. Year", "#hashtag", "=", "~", "- ", "-"]  # fmt: skip
SEPARATORS = ["\n\n", "\n\n", "\n\n\n", "\n \n", "\n", "\n\n  \n"]


def test_render_body_is_the_whole_parse_on_random_narratives() -> None:
    rng = random.Random(4)
    for _ in range(2000):
        parts = [rng.choice(PLAIN) if rng.random() < 0.6 else rng.choice(RICH) for _ in range(rng.randint(1, 6))]
        text = "".join(part + rng.choice(SEPARATORS) for part in parts[:-1]) + parts[-1] + rng.choice(["", "\n"])
        tokens = markdown._md.parse(text)
        whole = (markdown._md.render(text), markdown._plain_text(tokens), tuple(unsafe_links(text)))
        assert tuple(render_body(text)) == whole, text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("## Who\n\n### When\n", "<h2>Who</h2>\n<h3>When</h3>\n"),  # sections written as ##
        ("# Who\n\n## When\n", "<h2>Who</h2>\n<h3>When</h3>\n"),
        ("### Deep\n\n# Top\n", "<h4>Deep</h4>\n<h2>Top</h2>\n"),
        ("No heading, <b>raw</b>.\n", "<p>No heading, &lt;b&gt;raw&lt;/b&gt;.</p>\n"),
    ],
)
def test_a_free_page_starts_its_headings_at_h2(text: str, expected: str) -> None:
    """A page's title is its h1: its own highest headings become h2, skipping no level."""
    assert render_page(text) == expected
