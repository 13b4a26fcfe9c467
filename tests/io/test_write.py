"""Writing pools: round trips through every format, and atomic writes that never leave partial files."""
from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pj
import pytest

from quadiv.errors import UsageError
from quadiv.io import _write, atomic_write, read, write

POOL = pa.table({
    "id": ["a/1", "b/2", "c/3"],
    "text": ['comma, "quote"', "new\nline, tab\t", "unicode: é ✓ 中"],
    "q": [0.5, -1.25, 1e-9],
    "n": pa.array([1, 2, 3], pa.int64()),
    "ok": [True, False, True],
})


@pytest.mark.parametrize("name", ["p.jsonl", "p.ndjson", "p.jsonl.gz", "p.json", "p.json.gz", "p.csv",
                                  "p.tsv", "p.csv.gz", "p.parquet"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    write(POOL, tmp_path / name)
    assert read(tmp_path / name).equals(POOL)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_jsonl_is_plain_json_lines(tmp_path: Path) -> None:
    write(POOL, tmp_path / "p.jsonl")
    lines = (tmp_path / "p.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == POOL.to_pylist()
    assert pj.read_json(tmp_path / "p.jsonl").equals(POOL)


def test_gzip_output_is_gzip(tmp_path: Path) -> None:
    write(POOL, tmp_path / "p.jsonl.gz")
    with gzip.open(tmp_path / "p.jsonl.gz", "rt", encoding="utf-8") as handle:
        assert json.loads(handle.readline())["id"] == "a/1"


def test_nested_values_round_trip_through_jsonl_and_parquet(tmp_path: Path) -> None:
    table = pa.Table.from_pylist([{"id": 1, "tags": ["x", "y"], "meta": {"k": 1.5}},
                                  {"id": 2, "tags": [], "meta": {"k": 2.0}}])
    for name in ("n.jsonl", "n.parquet"):
        write(table, tmp_path / name)
        assert read(tmp_path / name).equals(table)


def test_nan_is_written_as_null_in_json(tmp_path: Path) -> None:
    write(pa.table({"q": [1.0, float("nan")]}), tmp_path / "p.jsonl")
    assert (tmp_path / "p.jsonl").read_text().splitlines() == ['{"q": 1.0}', '{"q": null}']


def test_csv_refuses_nested_fields(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nested field.*tags"):
        write(pa.table({"tags": [["x"]]}), tmp_path / "p.csv")
    assert list(tmp_path.iterdir()) == []


def test_unknown_output_extension(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"p\.xlsx: unknown file type"):
        write(POOL, tmp_path / "p.xlsx")


def test_writer_failing_midway_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_then_fail(table: pa.Table, out) -> None:
        out.write(b'{"id": "a/1"}\n')
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(_write._WRITERS, "jsonl", half_then_fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write(POOL, tmp_path / "out" / "p.jsonl")
    assert list((tmp_path / "out").iterdir()) == []


def test_failed_rewrite_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as handle:
        handle.write("new, half written")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_atomic_write_text_and_binary(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "a.txt") as handle:
        handle.write("é\n")
        assert not (tmp_path / "a.txt").exists()
    with atomic_write(tmp_path / "b.bin", "wb") as handle:
        handle.write(b"\x00\xff")
    assert (tmp_path / "a.txt").read_bytes() == "é\n".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]
    with pytest.raises(UsageError), atomic_write(tmp_path / "c.txt", "a"):
        pass


def test_permissions_follow_umask_or_the_existing_file(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write(POOL, tmp_path / "new.parquet")
        assert stat.S_IMODE((tmp_path / "new.parquet").stat().st_mode) == 0o644
        os.chmod(tmp_path / "new.parquet", 0o600)
        write(POOL, tmp_path / "new.parquet")
        assert stat.S_IMODE((tmp_path / "new.parquet").stat().st_mode) == 0o600
    finally:
        os.umask(umask)


def test_unwritable_location_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="cannot write there"):
        write(POOL, tmp_path / "file" / "p.jsonl")
