"""parallel.py: work shared with forked processes gives what one process gives, in order."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder import parallel


def _labelled(chunk: list[int]) -> Iterator[tuple[int, str]]:
    for n in chunk:
        yield n, "shared"


def test_stream_chunks_yields_every_item_in_order_across_batches() -> None:
    items = list(range(3 * parallel.BATCH + 7))  # several batches per child, the last one short
    chunks = parallel.split(items, 3)
    got = list(parallel.stream_chunks(_labelled, chunks))
    assert [n for n, _ in got] == items
    # What items of one batch share arrives as one object, not one per item.
    second = got[len(chunks[0]) : len(chunks[0]) + parallel.BATCH]
    assert len({id(label) for _, label in second}) == 1


def test_stream_chunks_with_an_empty_chunk_and_one_process() -> None:
    assert list(parallel.stream_chunks(_labelled, [[1], []])) == [(1, "shared")]
    assert list(parallel.stream_chunks(_labelled, [[1, 2]])) == [(1, "shared"), (2, "shared")]


def test_run_jobs_calls_done_for_every_job_in_the_parent() -> None:
    seen: dict[int, int] = {}
    jobs = [lambda n=n: n * n for n in range(20)]
    parallel.run_jobs(jobs, 2, lambda index, result: seen.__setitem__(index, result))
    assert seen == {n: n * n for n in range(20)}


def test_resident_memory_is_read() -> None:
    assert 10 * 2**20 < parallel.resident() < 2**40
