"""Property: any bytes saved under a data file's name either read as a pool or raise InputError naming the file.

Every column of a pool that reads is then taken as numbers, labels and texts, which must succeed or raise
InputError naming the file too. Nothing else may escape: any other exception is a bug in the readers.
"""
from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quadiv.errors import InputError
from quadiv.io import float_column, iter_batches, read, render_texts, string_column

SUFFIXES = [".jsonl", ".csv", ".tsv", ".json", ".jsonl.gz"]
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=3), inner, max_size=3), max_leaves=6)
records = st.dictionaries(st.sampled_from(["id", "text", "q", "g", "x", ""]) | st.text(max_size=4), values,
                          max_size=4)
junk = st.binary(min_size=1, max_size=6) | st.sampled_from(
    [b"\xff", b"\xc3", b"\x00", b"\r", b"\n", b'"', b",", b"\t", b"{", b"]", b"\xef\xbb\xbf", b"\xed\xa0\x80"])


@st.composite
def jsonl_with_junk(draw) -> bytes:
    """Valid JSON Lines (sometimes a JSON array) with a few bytes of junk put in at random places."""
    rows = draw(st.lists(records, max_size=6))
    text = (json.dumps(rows) if draw(st.booleans()) else "\n".join(json.dumps(r) for r in rows)).encode()
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(junk) + text[at:]
    return text


@st.composite
def delimited(draw) -> bytes:
    """CSV/TSV-like text: rows of cells from a small alphabet with quotes, delimiters and line breaks."""
    cell = st.text(alphabet='ab1.-e "\t,\r\n\u00e9\ufeff', max_size=5)
    rows = draw(st.lists(st.lists(cell, min_size=1, max_size=4), max_size=5))
    delimiter = draw(st.sampled_from([",", "\t"]))
    return "\n".join(delimiter.join(row) for row in rows).encode()


@st.composite
def tables(draw) -> bytes:
    """Well-formed CSV/TSV: a header from a few names (so repeats happen) and rows of the same width."""
    delimiter = draw(st.sampled_from([",", "\t"]))
    header = draw(st.lists(st.sampled_from(["id", "text", "q", "g", ""]), min_size=1, max_size=4))
    cell = st.sampled_from(["", "a", "1", "-2.5", "inf", "nan", "true", '"x, y"', "\ufeffb", "1e400"])
    rows = draw(st.lists(st.lists(cell, min_size=len(header), max_size=len(header)), max_size=4))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(delimiter.join(row) for row in [header, *rows]).encode()


contents = st.one_of(
    tables(),
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    jsonl_with_junk(),
    delimited(),
    st.tuples(delimited() | jsonl_with_junk(), junk).map(lambda parts: parts[0] + parts[1]),
)


def _check_reads_or_names_the_file(data: bytes, suffix: str, compress: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"pool{suffix}"
        path.write_bytes(gzip.compress(data) if compress else data)
        try:
            table = read(path)
        except InputError as err:
            assert str(path) in str(err)
            assert "\n" not in str(err)
            return
        assert isinstance(table, pa.Table) and "id" in table.column_names and table.num_rows > 0
        assert sum(b.num_rows for b in iter_batches(path, batch_rows=2)) == table.num_rows
        for name in table.column_names:
            for use in (float_column, string_column, render_texts):
                try:
                    use(table, name, path=str(path))
                except InputError as err:
                    assert str(path) in str(err)


@FAST
@given(contents, st.sampled_from(SUFFIXES))
@example(b"{}\n{}\n{}\n", ".jsonl")
@example(b"id,id\n,", ".csv")
def test_any_bytes_read_or_raise_input_error_naming_the_file(data: bytes, suffix: str) -> None:
    _check_reads_or_names_the_file(data, suffix, compress=suffix.endswith(".gz"))


@FAST
@given(contents, st.sampled_from([".jsonl", ".csv", ".tsv", ".json"]), st.booleans())
def test_broken_gzip_reads_or_raises_input_error(data: bytes, suffix: str, truncate: bool) -> None:
    """Under a `.gz` name: bytes that are not gzip at all, or a gzip stream cut in half."""
    packed = gzip.compress(data)
    _check_reads_or_names_the_file(packed[: len(packed) // 2] if truncate else data, suffix + ".gz",
                                   compress=False)


@FAST
@given(st.lists(records, min_size=1, max_size=6), st.integers(0, 5), junk)
def test_invalid_utf8_in_json_lines_names_the_file(rows: list[dict], where: int, bad: bytes) -> None:
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in rows]
    at = where % len(lines)
    lines[at] = lines[at][:-1] + b"\xff" + bad + lines[at][-1:]
    _check_reads_or_names_the_file(b"\n".join(lines), ".jsonl", compress=False)
