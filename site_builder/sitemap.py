"""sitemap.xml and robots.txt, for search engines: the current archive's pages only.

Releases are left out (frozen copies, each page citing its own address), and so are pages that
are not content: redirects left at former ids, the 404 page, search and the removed-entries list.
An event page's `lastmod` is the day of its last revision in Git; other pages have none, since
nothing dates them honestly.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from .feeds import revision_days
from .model import Archive, History

SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
SKIP = frozenset({"404.html", "search/index.html", "removed/index.html"})


def sitemap(archive: Archive, history: History | None, pages: Iterable[str]) -> bytes:
    """`pages`: the rendered pages' paths (events/x/index.html, ...)."""
    base = archive.site.base_url
    redirects = {f"events/{alias}/index.html" for event in archive.events for alias in event.aliases}
    lastmod = {f"{event.url}index.html": revision_days(event, history)[1] for event in archive.events}
    root = ET.Element("urlset", {"xmlns": SITEMAP})
    for path in sorted(set(pages) - SKIP - redirects):
        url = ET.SubElement(root, "url")
        ET.SubElement(url, "loc").text = base + path.removesuffix("index.html")
        if lastmod.get(path):
            ET.SubElement(url, "lastmod").text = lastmod[path]
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def robots(archive: Archive) -> bytes:
    """Crawlers read robots.txt only at a host's root: under a subpath the host's own file applies."""
    return f"User-agent: *\nAllow: /\nSitemap: {archive.site.base_url}sitemap.xml\n".encode()
