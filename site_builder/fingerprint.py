"""What each output depends on, as digests: the build writes again only what they say changed.

An output's fingerprint is a digest of everything its bytes can depend on:

- what every page sees (`common`): site-builder's version and code, site.yaml, the registries,
  the free pages (every page lists them), the theme's strings, the edition (which includes the
  Git commit: an entry's history, the removed entries and the citations follow from it);
- the template and every template it extends, includes, imports or renders a `piece` of, from
  the site's own templates/ or the theme's (`Templates`); a template that names another one by a
  variable depends on all of them;
- what of the archive the page shows (`PageSpec.needs`): an entry is its file's content;
  a region, tag or source page the entries it lists; the home page all of them;
- the regions whose entries the template asked the `tree` global for, the last time it rendered
  (`Rendered.reads`): if these and all the above are unchanged, the template takes the same path
  again and reads the same things.

The same fingerprint means the same bytes; a different one means "render it and see".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import cast

from jinja2 import Environment, TemplateNotFound, meta, nodes

from .model import Archive


def digest(*parts: object) -> bytes:
    """A digest of plain values (strings, bytes, numbers, and tuples of them)."""
    return hashlib.blake2b(repr(parts).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _combined(digests: Iterable[bytes]) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for d in sorted(digests):
        h.update(d)
    return h.digest()


class Templates:
    """The digest of a template together with every template it pulls in."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.closure = cache(self._closure)

    @cache  # noqa: B019 (one instance per build)
    def _source(self, name: str) -> tuple[str, frozenset[str] | None]:
        """(digest of the source and where it came from, the templates it names; None: any)."""
        loader = self.env.loader
        assert loader is not None
        try:
            source, filename, _ = loader.get_source(self.env, name)
        except TemplateNotFound:
            return "missing", frozenset()
        return digest(filename, source).hex(), _named(self.env, source)

    def _closure(self, name: str) -> bytes:
        seen: dict[str, str] = {}
        todo = [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            own, refs = self._source(current)
            seen[current] = own
            if refs is None:  # a name known only when it renders: any template may be it
                refs = frozenset(self.env.list_templates(filter_func=lambda n: n.endswith(".html")))
            todo.extend(refs)
        return digest(sorted(seen.items()))


# The templates each source names, by a digest of the source: parsed once, and kept in the build
# cache (`NAMED` is what it saves and loads: plain data).
NAMED: dict[bytes, frozenset[str] | None] = {}


def _named(env: Environment, source: str) -> frozenset[str] | None:
    """The templates a source names (None: one named by a variable, so any)."""
    key = hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    if key not in NAMED:
        tree = env.parse(source)
        refs = (*meta.find_referenced_templates(tree), *_pieces(tree))
        NAMED[key] = None if None in refs else frozenset(cast(tuple[str, ...], refs))
    return NAMED[key]


def _pieces(tree: nodes.Template) -> Iterator[str | None]:
    """The templates named by `piece(...)` calls (render.py), as `include` names them."""
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "piece":
            first = call.args[0] if call.args else None
            yield first.value if isinstance(first, nodes.Const) and isinstance(first.value, str) else None


class Needs:
    """Digests of the parts of the archive pages show, by the keys of `PageSpec.needs`."""

    def __init__(self, archive: Archive, entries: Mapping[str, bytes], files: Mapping[str, bytes]) -> None:
        """`entries`: each event's file digest by event id; `files`: theme files' digests."""
        self.entries, self.files = entries, files
        self.parents = {r.id: r.parent for r in archive.regions}
        self.direct: dict[str, list[bytes]] = {r.id: [] for r in archive.regions}
        self.tags: dict[str, list[bytes]] = {}
        publishers = {p.id for p in archive.publishers}
        self.cited: dict[str, list[bytes]] = {p: [] for p in publishers}
        for event in archive.events:
            own = entries[event.id]
            for region_id in event.regions:
                self.direct.setdefault(region_id, []).append(own)
            for tag in event.tags:
                self.tags.setdefault(tag, []).append(own)
            for source_id in {s.id for s in event.sources} & publishers:
                self.cited[source_id].append(own)
        self.children: dict[str, list[str]] = {r: [] for r in self.parents}
        for region_id, parent in self.parents.items():
            if parent in self.children:
                self.children[parent].append(region_id)
        self.memo: dict[str, bytes] = {}

    def _region_entries(self, region_id: str) -> set[bytes]:
        found = set(self.direct.get(region_id, ()))
        for child in self.children.get(region_id, ()):
            found |= self._region_entries(child)
        return found

    def __call__(self, key: str) -> bytes:
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self._compute(key)
        return found

    def _compute(self, key: str) -> bytes:
        kind, _, name = key.partition(":")
        if kind == "event":
            return self.entries.get(name, b"gone")
        if kind == "region":
            return _combined(self._region_entries(name)) if name in self.parents else b"gone"
        if kind == "tag":
            return _combined(self.tags.get(name, ()))
        if kind == "publisher":
            return _combined(self.cited.get(name, ()))
        if kind == "events":
            return _combined(self.entries.values())
        if kind == "tags":
            return digest(sorted((tag, self(f"tag:{tag}")) for tag in self.tags))
        if kind == "cited":
            return digest(sorted((p, self(f"publisher:{p}")) for p in self.cited))
        if kind == "tag-names":
            return digest(sorted(self.tags))
        if kind == "file":
            return self.files.get(f"theme/{name}", b"gone")
        if kind == "empty":  # nothing of the archive: a page's fingerprint without needs
            return b""
        raise ValueError(f"unknown page need {key!r}")

    def size(self, key: str) -> int:
        """How many entries the need covers (to guess what a page costs to render)."""
        kind, _, name = key.partition(":")
        if kind == "region":
            return len(self._region_entries(name))
        if kind in ("tag", "publisher"):
            return len((self.tags if kind == "tag" else self.cited).get(name, ()))
        if kind in ("events", "tags", "cited"):
            return len(self.entries)
        return 1

    def of(self, keys: Iterable[str]) -> tuple[bytes, ...]:
        return tuple(self(key) for key in keys)

    def reads(self, regions: Iterable[str]) -> tuple[tuple[str, bytes], ...]:
        return tuple((r, self(f"region:{r}")) for r in sorted(regions))
