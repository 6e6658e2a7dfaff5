"""write.py: files written in pieces (the large data files) are the bytes a whole write gives."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from site_builder.write import Trees, Writer, digest


def pieces(*parts: bytes) -> Iterator[bytes]:
    yield from parts


def test_a_file_written_in_pieces_is_the_file_written_whole(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "output")
    record, wrote = writer.put("data/events.json", pieces(b"{\n", b'"a": 1', b"\n}\n"))
    path = writer.staging / "data/events.json"
    assert wrote and path.read_bytes() == b'{\n"a": 1\n}\n'
    assert record.digest == digest(b'{\n"a": 1\n}\n') and record[1:] == (
        11,
        path.stat().st_mtime_ns,
        path.stat().st_ino,
    )
    assert sorted(p.name for p in path.parent.iterdir()) == ["events.json"]
    writer.abort()


def test_pieces_the_spare_holds_already_are_not_written_again(tmp_path: Path) -> None:
    output = tmp_path / "output"
    first = Writer(output, Trees())
    first.write("data/a.csv", b"x,y\n1,2\n", "data")
    trees = first.commit()
    second = Writer(output, trees)  # writes into the spare: makes it from the output, linked
    second.write("data/a.csv", b"x,y\n1,2\n", "data")
    trees = second.commit()
    third = Writer(output, trees)
    record, wrote = third.put("data/a.csv", pieces(b"x,y\n", b"1,2\n"))
    assert not wrote and record.digest == digest(b"x,y\n1,2\n")
    third.abort()


def test_a_file_linked_from_the_output_is_replaced_not_written_in_place(tmp_path: Path) -> None:
    output = tmp_path / "output"
    first = Writer(output, Trees())
    first.write("data/a.csv", b"old\n", "data")
    trees = first.commit()
    third = Writer(output, trees)
    linked = third.staging / "data/a.csv"
    linked.parent.mkdir(parents=True, exist_ok=True)
    os.link(output / "data/a.csv", linked)  # as Writer.keep links what staging lacks
    assert os.stat(linked).st_ino == os.stat(output / "data/a.csv").st_ino
    third.put("data/a.csv", pieces(b"new", b"\n"))
    assert (output / "data/a.csv").read_bytes() == b"old\n"  # the output, untouched
    assert linked.read_bytes() == b"new\n"
    third.abort()


def test_pieces_that_fail_half_way_leave_no_file_behind(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "output")
    writer.write("data/a.csv", b"before\n", "data")

    def failing() -> Iterator[bytes]:
        yield b"half"
        raise OSError("a piece could not be read")

    with pytest.raises(OSError, match="could not be read"):
        writer.put("data/a.csv", failing())
    folder = writer.staging / "data"
    assert sorted(p.name for p in folder.iterdir()) == ["a.csv"]
    assert (folder / "a.csv").read_bytes() == b"before\n"
    writer.abort()
