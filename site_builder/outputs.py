"""Which output files to make again, making them across processes, and what to remember of them.

Every output belongs to a group with a fingerprint (fingerprint.py): a page, a data file, a feed,
the offline search index (one group of many files). A group whose fingerprint is the one the
cache recorded, and whose files the staging folder holds or can link from the output, is kept as
it is; every other group goes on a list of jobs, which parallel.py hands out to the processes.
A job writes its files into the staging folder itself and returns their records, so pages never
travel between processes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import parallel
from .fingerprint import Needs, digest
from .progress import Progress
from .render import PageSpec
from .write import Content, FileRecord, Writer


class Done(NamedTuple):
    """A group as a build left it: its fingerprint, its files, and what its template read."""

    fingerprint: bytes
    files: tuple[tuple[str, bytes], ...]  # (path, digest)
    reads: frozenset[str] = frozenset()


@dataclass
class Result:
    """What a job sends back to the parent."""

    files: list[tuple[str, FileRecord, str]] = field(default_factory=list)
    written: int = 0
    done: list[tuple[str, Done]] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


Job = Callable[[], Result]
PAGES_PER_JOB = 40  # small pages are rendered this many to a job: fewer results to send back
# Costs, in entries shown on a list page (about 40 µs each here): what decides the order of
# jobs (biggest first) and whether forking is worth it. PARALLEL is about a second of work: a
# worker shares the parent's memory only until either writes to it, and counts it all in its own
# resident size; a rebuild after an edit stays in one process. So does any rebuild (the cache
# held the last build) once the parent holds FORK_MEMORY: at 10,000 entries it holds 150-250 MiB
# by then, which a worker would count again (and at 100,000, 1.2 GB). A cold build forks until
# the parent holds FORK_MEMORY_COLD: at 100,000 entries it holds 750 MiB when the pages after the
# entries' are made, and its worker came to hold 1.1 GB (reading objects writes their reference
# counts, so their pages are copied): 2.3 GB in all, 1.5 GB in one process, a fifth slower.
EVENT_PAGE = 12
PARALLEL = 25_000
FORK_MEMORY = 128 * 2**20
FORK_MEMORY_COLD = 512 * 2**20
COUNTS = ("events", "tags", "cited", "tag-names")  # needs of pages that count entries, not list them


def page_fingerprint(common: bytes, template: bytes, path: str, needs: tuple[bytes, ...]) -> bytes:
    """A page's fingerprint but for what its template reads from `tree` (`with_reads`): each part
    with its length, so no two lists of parts run together into the same bytes."""
    return page_fingerprint_end(page_fingerprint_start(common, template), path, needs)


def page_fingerprint_start(common: bytes, template: bytes) -> Any:
    """The hash of a page fingerprint's first parts, the same for every page of a template."""
    h = hashlib.blake2b(digest_size=16)
    for part in (common, template):
        h.update(len(part).to_bytes(4, "little") + part)
    return h


def page_fingerprint_end(start: Any, path: str, needs: tuple[bytes, ...]) -> bytes:
    h = start.copy()
    for part in (path.encode("utf-8", "surrogatepass"), *needs):
        h.update(len(part).to_bytes(4, "little") + part)
    return h.digest()


def with_reads(base: bytes, needs: Needs, reads: frozenset[str]) -> bytes:
    return digest(base, needs.reads(reads)) if reads else base


class Outputs:
    """The groups of one build: kept, or queued as jobs and then run."""

    def __init__(
        self, writer: Writer, before: Mapping[str, Done], needs: Needs, pieces: Callable[[], Any] | None = None
    ) -> None:
        """`pieces`: what a page job made besides its page, to send back (`extra["items"]`)."""
        self.writer, self.before, self.needs, self.pieces = writer, before, needs, pieces
        self.done: dict[str, Done] = {}
        self.rendered: set[str] = set()
        self.jobs: list[tuple[float, Job]] = []  # (cost estimate, job)
        self.pages = 0
        self.extra: dict[str, list[Any]] = {}  # what jobs sent back besides their files, by kind

    def keep_all(self, groups: list[tuple[str, bytes]], origin: str) -> bool:
        """Keep all these groups, or none: each must be unchanged (no fingerprint read from
        `tree`) and its files at hand."""
        found = []
        has = self.writer.has
        for key, fingerprint in groups:
            before = self.before.get(key)
            if before is None or before.fingerprint != fingerprint or before.reads:
                return False
            if not all(has(rel, file_digest) for rel, file_digest in before.files):
                return False
            found.append((key, before))
        for key, before in found:
            for rel, file_digest in before.files:
                self.writer.keep(rel, file_digest, origin)
            self.done[key] = before
        return True

    def keep(self, key: str, fingerprint: bytes, origin: str) -> bool:
        """Keep the group if it is unchanged and its files are at hand."""
        before = self.before.get(key)
        if before is None or before.fingerprint != fingerprint:
            return False
        writer = self.writer
        if not all(writer.has(rel, file_digest) for rel, file_digest in before.files):
            return False
        for rel, file_digest in before.files:
            writer.keep(rel, file_digest, origin)
        self.done[key] = before
        return True

    def render(self, spec: PageSpec, base: bytes, result: Result) -> None:
        """Render a page into staging, here; what to record goes into `result`."""
        page = spec.render()
        record, wrote = self.writer.put(page.path, page.content)
        result.files.append((page.path, record, "render"))
        result.written += wrote
        fingerprint = with_reads(base, self.needs, page.reads)
        result.done.append((page.path, Done(fingerprint, ((page.path, record.digest),), page.reads)))
        result.rendered.append(page.path)

    def merge(self, result: Result) -> None:
        """Record what a job made (here or in another process)."""
        self.writer.merge(result.files, result.written)
        self.done.update(result.done)
        self.rendered.update(result.rendered)
        for kind, value in result.extra.items():
            self.extra.setdefault(kind, []).append(value)

    def pages_to_render(self, specs: list[PageSpec], common: bytes, templates: Callable[[str], bytes]) -> None:
        """Keep the pages that did not change; queue the others, a few to a job."""
        self.pages += len(specs)
        queue: list[tuple[PageSpec, bytes]] = []
        for spec in specs:
            base = page_fingerprint(common, templates(spec.template), spec.path, self.needs.of(spec.needs))
            before = self.before.get(spec.path)
            reads = before.reads if before is not None else frozenset()
            if not self.keep(spec.path, with_reads(base, self.needs, reads), "render"):
                queue.append((spec, base))
        # A list page costs with the entries it shows: those go one to a job, biggest first.
        small: list[tuple[tuple[PageSpec, bytes], int]] = []
        large: list[tuple[tuple[PageSpec, bytes], int]] = []
        for item in queue:
            listed = sum(self.needs.size(key) for key in item[0].needs if key not in COUNTS)
            (large if listed > PAGES_PER_JOB else small).append((item, listed))
        for start in range(0, len(small), PAGES_PER_JOB):
            chunk = small[start : start + PAGES_PER_JOB]
            self.jobs.append((EVENT_PAGE * len(chunk), self._page_job([item for item, _ in chunk])))
        for item, listed in large:
            self.jobs.append((listed, self._page_job([item])))

    def _page_job(self, items: list[tuple[PageSpec, bytes]]) -> Job:
        def job() -> Result:
            result = Result()
            for spec, base in items:
                self.render(spec, base, result)
            made = self.pieces() if self.pieces is not None else None
            if made:
                result.extra["items"] = made
            return result

        return job

    def files(
        self,
        key: str,
        fingerprint: bytes,
        make: Callable[[], Mapping[str, Content]],
        origin: str,
        cost: float = 1.0,
        extra: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        """A group of files made by one call (a data file, a feed, the offline index)."""
        if self.keep(key, fingerprint, origin):
            return
        writer = self.writer

        def job() -> Result:
            result = Result()
            made = make()
            for rel, content in made.items():
                record, wrote = writer.put(rel, content)
                result.files.append((rel, record, origin))
                result.written += wrote
            result.done.append((key, Done(fingerprint, tuple((rel, r.digest) for rel, r, _ in result.files))))
            if extra is not None:
                result.extra = extra()
            return result

        self.jobs.append((cost, job))

    def task(self, cost: float, work: Callable[[], None]) -> None:
        """Work that writes no output file (saving a cache), run with the jobs."""

        def job() -> Result:
            work()
            return Result()

        self.jobs.append((cost, job))

    def run(self, workers: int, progress: Progress, name: str) -> None:
        """Run the queued jobs (biggest first), record their results, empty the queue."""
        queued = sorted(self.jobs, key=lambda item: -item[0])
        self.jobs = []
        if not queued:
            return
        jobs = [job for _, job in queued]
        progress.stage(name, len(jobs))
        large = sum(cost for cost, _ in queued) > PARALLEL
        limit = FORK_MEMORY if self.before else FORK_MEMORY_COLD
        work = workers if large and parallel.resident() < limit else 1

        parallel.run_jobs(jobs, work, lambda _, result: self.merge(result), progress.count)
