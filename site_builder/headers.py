"""What a page may load: its Content-Security-Policy, and `_headers` for hosts that read one.

Readers may be at risk, so a page loads only files of the site itself, runs no inline script,
and tells nobody where the reader came from. Every page carries its policy in a `<meta>` tag
(`policy()`, the `csp` global of the templates), which works from any host and from disk; the
search page adds 'wasm-unsafe-eval' for Pagefind, and the 404 page allows its one inline
stylesheet by its hash.

`_headers` (Netlify, Cloudflare Pages) sends the same protections as HTTP headers, with what a
`<meta>` cannot say (`frame-ancestors`). Those hosts join the values of a header that several
rules give one path into one list, and a browser enforces every policy of the list: so there is
one rule, for every path, whose policy allows what any page needs (the search page's WebAssembly,
which Pagefind's worker compiles under the header's policy alone, and the 404 page's stylesheet),
and each page's own `<meta>` policy narrows it to what that page needs.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path

from markupsafe import Markup

# Only the site itself, and nothing that is not named: no inline script or style, no plugins,
# no frames, no forms sent anywhere, no <base> to redirect the page's relative links.
_COMMON = (
    ("default-src", "'none'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self'"),
    ("font-src", "'self'"),
    ("connect-src", "'self'"),  # Pagefind fetches its index; `serve` streams its reload events
    ("base-uri", "'none'"),
    ("form-action", "'none'"),
)

HEADERS = (
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("Permissions-Policy", "browsing-topics=(), camera=(), geolocation=(), microphone=()"),
)


def style_hash(css: str) -> str:
    """The source that allows one inline <style> element with this text (as the HTML parser
    gives it: line breaks normalised)."""
    text = css.replace("\r\n", "\n").replace("\r", "\n")
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode('utf-8')).digest()).decode('ascii')}'"


def _policy(search: bool, styles: Iterable[str], header: bool = False) -> str:
    sources = {name: [value] for name, value in _COMMON}
    if search:  # Pagefind compiles WebAssembly and searches in a worker
        sources["script-src"].append("'wasm-unsafe-eval'")
        sources["worker-src"] = ["'self'"]
    sources["style-src"] += [style_hash(css) for css in styles]
    if header:  # a <meta> policy cannot say who may frame the page
        sources["frame-ancestors"] = ["'none'"]
    return "; ".join(f"{name} {' '.join(values)}" for name, values in sources.items())


def policy(search: bool = False, styles: Iterable[str] = ()) -> Markup:
    """A page's Content-Security-Policy for its <meta> tag; `search`: the search page (Pagefind);
    `styles`: the text of each inline <style> element the page has."""
    # Fixed words and base64 digests only: nothing to escape, and the page shows it as it is.
    return Markup(_policy(search, styles))


def headers_file(theme: Path) -> bytes:
    """`_headers` for the site's root: one rule for every path (see the module's docstring)."""
    css = (theme / "static" / "style.css").read_text(encoding="utf-8")  # the 404 page's inline style
    csp = _policy(True, [css], header=True)
    lines = ["# HTTP headers for hosts that read this file (Netlify, Cloudflare Pages).", "/*"]
    lines += [f"  {name}: {value}" for name, value in (("Content-Security-Policy", csp), *HEADERS)]
    return ("\n".join(lines) + "\n").encode("utf-8")
