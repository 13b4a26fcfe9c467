"""Bad inputs of every kind: each is one InputError line naming the file and, where it has one, the row.

Rows are numbered from 1 as the user finds them: by the physical line in JSON Lines (blank lines count),
by the data row in CSV/TSV (the header not counted), by the record elsewhere; "line N" is a physical line.
"""
from __future__ import annotations

import gzip
import json
import pickle
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quadiv.embed import embeddings_from_column, load_embeddings
from quadiv.errors import InputError
from quadiv.io import iter_batches, read, read_pool

GOOD_JSONL = b'{"text": "a", "q": 1}\n{"text": "b", "q": 2}\n'


def arrow_stream() -> bytes:
    """An Arrow IPC stream of a two-row table, as `Dataset.save_to_disk` writes its shards."""
    sink = pa.BufferOutputStream()
    table = pa.table({"text": ["a", "b"]})
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


STATE = json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}]})


def hf(state: str | None, shard: bytes | None, dataset_dict: str | None = None) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        root = folder / "saved"
        root.mkdir()
        for name, content in (("state.json", state), ("dataset_dict.json", dataset_dict)):
            if content is not None:
                (root / name).write_text(content)
        if shard is not None:
            (root / "data-00000-of-00001.arrow").write_bytes(shard)
        return root
    return make


def data(name: str, content: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(content)
        return folder / name
    return make


def npy(name: str, array: np.ndarray | None = None, raw: bytes | None = None) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        if raw is not None:
            (folder / name).write_bytes(raw)
        else:
            np.save(folder / name, array, allow_pickle=True)
        return folder / name
    return make


def parquet_cut(folder: Path) -> Path:
    """A Parquet file whose footer is intact but whose data pages are zeroed."""
    pq.write_table(pa.table({"text": ["a" * 100] * 1000}), folder / "body.parquet")
    raw = bytearray((folder / "body.parquet").read_bytes())
    raw[100:300] = bytes(200)
    (folder / "body.parquet").write_bytes(raw)
    return folder / "body.parquet"


def nan_rows() -> np.ndarray:
    X = np.eye(4, dtype=np.float32)
    X[[1, 3], 0] = np.nan
    return X


def _read(path: Path) -> object:
    return read(path)


def _stream_all(path: Path) -> object:
    return list(iter_batches(path, batch_rows=1))


def _quality(path: Path) -> object:
    return read_pool(str(path), "text").floats("q")


def _group(path: Path) -> object:
    return read_pool(str(path), "text").labels("g")


def _texts(path: Path) -> object:
    return read_pool(str(path), "text").texts


def _embeddings(path: Path) -> object:
    return load_embeddings(path)


def _column(path: Path) -> object:
    pool = read_pool(str(path), "text")
    return embeddings_from_column(pool.table, "e", path=pool.path)


# name: (make the input, what to do with it, regex that the message, which starts with the path, holds)
CASES: dict[str, tuple[Callable[[Path], Path], Callable[[Path], object], str]] = {
    # not UTF-8
    "utf8-jsonl": (data("a.jsonl", b'{"text": "a"}\n{"text": "b\xff"}\n'), _read, r"line 2: not UTF-8"),
    "utf8-jsonl-stream": (data("a.jsonl", b'{"text": "a"}\n{"text": "b\xff"}\n'), _stream_all,
                          r"line 2: not UTF-8"),
    "utf8-json": (data("a.json", b'[{"text": "a"},\n {"text": "b\xff"}]'), _read, r"line 2: not UTF-8"),
    "utf8-json-lines": (data("a.json", b'{"text": "a"}\n{"text": "\xc3("}\n'), _read, r"line 2: not UTF-8"),
    "utf8-csv": (data("a.csv", b"text\na\n\xff\n"), _read, r"line 3: not UTF-8"),
    "utf8-tsv": (data("a.tsv", b"text\tq\na\t1\n\xfe\t2\n"), _read, r"line 3: not UTF-8"),
    "utf8-jsonl-gz": (data("a.jsonl.gz", gzip.compress(b'{"text": "a"}\n{"text": "\xff"}\n')), _read,
                      r"line 2: not UTF-8"),
    "utf8-csv-gz": (data("a.csv.gz", gzip.compress(b"text\n\xff\n")), _read, r"line 2: not UTF-8"),
    "utf8-json-gz": (data("a.json.gz", gzip.compress(b'[{"text": "\xff"}]')), _read, r"line 1: not UTF-8"),
    # damaged or fake gzip
    "gz-truncated-jsonl": (data("a.jsonl.gz", gzip.compress(GOOD_JSONL * 500)[:-40]), _read,
                           r"not a complete gzip file"),
    "gz-truncated-jsonl-stream": (data("a.jsonl.gz", gzip.compress(GOOD_JSONL * 500)[:-40]), _stream_all,
                                  r"not a complete gzip file"),
    "gz-truncated-csv": (data("a.csv.gz", gzip.compress(b"text\na\n" * 500)[:-40]), _read,
                         r"not a complete gzip file"),
    "gz-truncated-csv-stream": (data("a.csv.gz", gzip.compress(b"text\na\n" * 500)[:-40]), _stream_all,
                                r"not a complete gzip file"),
    "gz-truncated-json": (data("a.json.gz", gzip.compress(b"[" + b'{"text": "a"},' * 500 + b"{}]")[:-40]),
                          _read, r"not a complete gzip file"),
    "gz-not-gzip-jsonl": (data("a.jsonl.gz", GOOD_JSONL), _read, r"not a complete gzip file"),
    "gz-not-gzip-csv": (data("a.csv.gz", b"text\na\n"), _read, r"not a complete gzip file"),
    "gz-not-gzip-json": (data("a.json.gz", b'[{"text": "a"}]'), _read, r"not a complete gzip file"),
    # saved Hugging Face datasets
    "hf-state-invalid": (hf("{not json", None), _read, r"line 1: invalid JSON"),
    "hf-state-no-files": (hf("{}", None), _read, r"no '_data_files' key"),
    "hf-state-a-list": (hf("[1, 2]", None), _read, r"no '_data_files' key"),
    "hf-state-bad-entry": (hf(json.dumps({"_data_files": [{}]}), None), _read, r"'_data_files' is not a list"),
    "hf-shard-missing": (hf(STATE, None), _read, r"lists data-00000-of-00001\.arrow, which is missing"),
    "hf-shard-garbage": (hf(STATE, b"garbage, not arrow"), _read, r"not a readable Arrow stream file"),
    "hf-shard-truncated": (hf(STATE, arrow_stream()[:-20]), _read, r"not a readable Arrow stream file"),
    "hf-dataset-dict-invalid": (hf(None, None, "{oops"), _read, r"line 1: invalid JSON"),
    "hf-dataset-dict-no-splits": (hf(None, None, "{}"), _read, r"no 'splits' key"),
    # Parquet
    "parquet-garbage": (data("a.parquet", b"PAR1 then nothing"), _read, r"not a readable Parquet file"),
    "parquet-truncated": (data("a.parquet", b"PAR1" + bytes(50)), _read, r"not a readable Parquet file"),
    "parquet-body": (parquet_cut, _read, r"not a readable Parquet file"),
    # shape of the records
    "json-object-without-data": (data("a.json", b'{\n  "rows": [{"text": "a"}]\n}\n'), _read,
                                 r"expected a list of objects or \{\"data\": \[\.\.\.\]\}, got an object"),
    "json-object-wrapping-records": (data("a.json", b'{\n "results": [{"text": "a"}, {"text": "b"}],\n "n": 2\n}'),
                                     _read, r"got an object whose 'results' holds records"),
    "json-scalar": (data("a.json", b"3\n"), _read, r"got a number"),
    "json-invalid": (data("a.json", b'[{"text": "a"},\n {"text": }]'), _read, r"line 2: invalid JSON"),
    "jsonl-list-line": (data("a.jsonl", b'{"text": "a"}\n\n[1, 2]\n'), _read,
                        r"line 3: expected a JSON object, got an array"),
    "jsonl-number-line": (data("a.jsonl", b'{"text": "a"}\n7\n'), _read, r"line 2: expected a JSON object"),
    "jsonl-invalid-line": (data("a.jsonl", b'{"text": "a"}\n{"text": \n'), _read, r"line 2: invalid JSON"),
    "csv-ragged": (data("a.csv", b"text,q\na,1\nb,2,3\n"), _read, r"line 3: expected 2 fields"),
    "csv-duplicate-header": (data("a.csv", b"text,q,text\na,1,b\n"), _read,
                             r"line 1: the header names 'text' more than once"),
    "tsv-duplicate-header": (data("a.tsv", b"q\tq\n1\t2\n"), _stream_all, r"line 1: the header names 'q'"),
    # nothing to read
    "empty-jsonl": (data("a.jsonl", b""), _read, r"no rows"),
    "blank-jsonl": (data("a.jsonl", b"\n  \n\t\n"), _read, r"no rows"),
    "empty-csv": (data("a.csv", b""), _read, r"no rows"),
    "blank-csv": (data("a.csv", b"\n\n"), _read, r"no rows"),
    "empty-json": (data("a.json", b"  \n"), _read, r"no rows"),
    "empty-json-array": (data("a.json", b"[]"), _read, r"no rows"),
    "header-only-csv": (data("a.csv", b"text,q\n"), _read, r"no rows: line 1 is the header"),
    "header-only-csv-stream": (data("a.csv", b"text,q\r\n"), _stream_all, r"no rows: line 1 is the header"),
    # field values, numbered as the file's rows
    "quality-text-csv": (data("a.csv", b"text,q\na,1\nb,high\n"), _quality, r"row 2: field 'q' is 'high'"),
    "quality-text-jsonl": (data("a.jsonl", b'{"text": "a", "q": "1"}\n\n{"text": "b", "q": "x"}\n'), _quality,
                           r"row 3: field 'q' is 'x', not a number"),
    "quality-list": (data("a.jsonl", b'{"text": "a", "q": [1]}\n'), _quality, r"row 1: field 'q' holds list"),
    "quality-inf-csv": (data("a.csv", b"text,q\na,1\nb,inf\n"), _quality, r"row 2: field 'q' is inf"),
    "quality-huge-json": (data("a.jsonl", b'{"text": "a", "q": 1}\n{"text": "b", "q": 1e400}\n'), _quality,
                          r"line 2: field 'q' holds inf"),
    "jsonl-nan-literal": (data("a.jsonl", b'{"text": "a", "q": NaN}\n'), _quality, r"row 1: field 'q' is missing"),
    "quality-null": (data("a.jsonl", b'{"text": "a", "q": 1}\n{"text": "b", "q": null}\n'), _quality,
                     r"row 2: field 'q' is missing"),
    "quality-null-with-id": (data("a.jsonl", b'{"id": "x", "text": "a", "q": null}\n'), _quality,
                             r"row 1 \(id 'x'\): field 'q' is missing"),
    "quality-multiline-csv": (data("a.csv", b'text,q\n"two\nlines",1\nb,oops\n'), _quality,
                              r"row 2: field 'q' is 'oops'"),
    "quality-parquet": (lambda folder: (pq.write_table(pa.table({"text": ["a", "b"], "q": ["1", "z"]}),
                                                       folder / "a.parquet"), folder / "a.parquet")[1],
                        _quality, r"row 2: field 'q' is 'z'"),
    "group-null": (data("a.jsonl", b'{"text": "a", "g": "x"}\n{"text": "b", "g": null}\n'), _group,
                   r"row 2: field 'g' is empty \(null\)"),
    "group-missing-key": (data("a.jsonl", b'{"text": "a", "g": "x"}\n{}\n'), _group,
                          r"row 2: field 'g' is empty \(null\)"),
    "text-null": (data("a.jsonl", b'{"text": "a"}\n{"text": null}\n'), _texts, r"row 2: field 'text' is empty"),
    "id-null": (data("a.jsonl", b'{"id": "a", "text": "a"}\n{"id": null, "text": "b"}\n'), _read,
                r"row 2: field 'id' is empty"),
    # .npy embeddings
    "npy-object": (npy("x.npy", np.array([[1, "a"]], dtype=object)), _embeddings, r"holds Python objects"),
    "npy-1d": (npy("x.npy", np.ones(3, np.float32)), _embeddings, r"shape \(3,\)"),
    "npy-3d": (npy("x.npy", np.ones((2, 2, 2), np.float32)), _embeddings, r"shape \(2, 2, 2\)"),
    "npy-pickle": (npy("x.npy", raw=pickle.dumps([1.0, 2.0])), _embeddings, r"cannot read as a numeric"),
    "npy-garbage": (npy("x.npy", raw=b"\x93NUMPY garbage"), _embeddings, r"cannot read as a numeric"),
    "npy-truncated": (npy("x.npy", raw=b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, "
                          b"'shape': (50, 50), }" + b" " * 50 + b"\n" + bytes(100)), _embeddings,
                      r"cannot read as a numeric"),
    "npz": (lambda folder: (np.savez(folder / "x.npz", a=np.eye(2)), (folder / "x.npz").rename(folder / "x.npy"),
                            folder / "x.npy")[2], _embeddings, r"an \.npz archive"),
    "npy-complex": (npy("x.npy", np.eye(2, dtype=np.complex64)), _embeddings, r"dtype complex64"),
    "npy-bool": (npy("x.npy", np.eye(2, dtype=bool)), _embeddings, r"dtype bool"),
    "npy-nan-rows": (npy("x.npy", nan_rows()), _embeddings, r"rows 2, 4: NaN or infinite values"),
    "npy-not-unit": (npy("x.npy", np.full((3, 2), 2.0, np.float32)), _embeddings,
                     r"rows 1, 2, 3: L2 norm 2\.828 \(first\), expected unit rows"),
    # --embedding-field columns
    "column-ragged": (data("a.jsonl", b'{"text": "a", "e": [1, 0]}\n{"text": "b", "e": [1]}\n'), _column,
                      r"column 'e', row 2 has 1 values but row 1 has 2"),
    "column-null": (data("a.jsonl", b'{"text": "a", "e": [1, 0]}\n\n{"text": "b", "e": null}\n'), _column,
                    r"column 'e', row 3 is empty \(null\)"),
    "column-null-value": (data("a.jsonl", b'{"text": "a", "e": [1, 0]}\n{"text": "b", "e": [null, 1]}\n'),
                          _column, r"column 'e', row 2 holds a NaN, null or infinite value"),
    "column-strings": (data("a.jsonl", b'{"text": "a", "e": ["x", "y"]}\n'), _column,
                       r"column 'e', row 1 holds lists of string, not numbers"),
    "column-nested": (data("a.jsonl", b'{"text": "a", "e": [[1.0]]}\n'), _column, r"holds lists of list"),
    "column-empty-lists": (data("a.jsonl", b'{"text": "a", "e": []}\n'), _column, r"row 1 is an empty list"),
    "column-scalar": (data("a.jsonl", b'{"text": "a", "e": 1.5}\n'), _column, r"must hold lists of floats"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_input_error_naming_the_file_and_row(tmp_path: Path, name: str) -> None:
    make, action, pattern = CASES[name]
    path = make(tmp_path)
    with pytest.raises(InputError) as excinfo:
        action(path)
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith(str(path)), message
    assert re.search(pattern, message), message


@pytest.mark.parametrize(("content", "expected"), [
    (b'\xef\xbb\xbftext,q\na,1\n', {"text": ["a"], "q": [1]}),
    (b'text,q\r\na,1\r\n"b\r\nc",2\r\n', {"text": ["a", "b\r\nc"], "q": [1, 2]}),
    (b"text\tq\r\na\t1\r\n", {"text": ["a"], "q": [1]}),
])
def test_bom_and_crlf_csv_read_fine(tmp_path: Path, content: bytes, expected: dict) -> None:
    suffix = ".tsv" if b"\t" in content else ".csv"
    (tmp_path / f"a{suffix}").write_bytes(content)
    assert read(tmp_path / f"a{suffix}").drop_columns(["id"]).to_pydict() == expected


@pytest.mark.parametrize("content", [
    b'\xef\xbb\xbf{"text": "a", "q": 1}\n{"text": "b", "q": 2}\n',
    b'{"text": "a", "q": 1}\r\n{"text": "b", "q": 2}\r\n',
    b'\n{"text": "a", "q": 1}\n  \n{"text": "b", "q": 2}',
])
def test_bom_crlf_and_blank_lines_in_json_lines_read_fine(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "a.jsonl").write_bytes(content)
    assert read(tmp_path / "a.jsonl").to_pydict() == {"id": [0, 1], "text": ["a", "b"], "q": [1, 2]}


def test_empty_objects_are_rows_without_fields(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(b'{"text": "a"}\n{}\n')
    assert read(tmp_path / "a.jsonl").to_pydict() == {"id": [0, 1], "text": ["a", None]}
    (tmp_path / "b.jsonl").write_bytes(b"{}\n{}\n")
    assert read(tmp_path / "b.jsonl").to_pydict() == {"id": [0, 1]}
    assert [b.num_rows for b in iter_batches(tmp_path / "b.jsonl", batch_rows=1)] == [1, 1]


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float16, np.float64])
def test_numeric_npy_is_converted_to_float32(tmp_path: Path, dtype: type) -> None:
    np.save(tmp_path / "x.npy", np.eye(3, dtype=dtype))
    X = load_embeddings(tmp_path / "x.npy", 3)
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X, np.eye(3))


def test_boolean_quality_reads_as_zero_and_one(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(b'{"text": "a", "q": true}\n{"text": "b", "q": false}\n')
    np.testing.assert_array_equal(_quality(tmp_path / "a.jsonl"), [1.0, 0.0])


@pytest.mark.parametrize(("name", "content", "npy_rows", "needle"), [
    ("a.jsonl.gz", gzip.compress(GOOD_JSONL * 500)[:-40], None, "not a complete gzip file"),
    ("a.jsonl", b'{"text": "a"}\n{"text": "b\xff"}\n', None, "line 2: not UTF-8"),
    ("a.csv", b"text,text\na,b\n", None, "line 1: the header names 'text' more than once"),
    ("a.jsonl", GOOD_JSONL, nan_rows()[:2], "row 2: NaN or infinite values"),
    ("a.jsonl", GOOD_JSONL, pickle.dumps([1]), "cannot read as a numeric .npy array"),
], ids=["truncated-gz", "not-utf8", "duplicate-header", "npy-nan", "npy-pickle"])
def test_cli_reports_bad_inputs_in_one_line(tmp_path: Path, name: str, content: bytes,
                                            npy_rows: np.ndarray | bytes | None, needle: str) -> None:
    (tmp_path / name).write_bytes(content)
    if isinstance(npy_rows, bytes):
        (tmp_path / "x.npy").write_bytes(npy_rows)
    else:
        np.save(tmp_path / "x.npy", np.eye(2, dtype=np.float32) if npy_rows is None else npy_rows)
    proc = subprocess.run([sys.executable, "-m", "quadiv", "measure", name, "--embeddings", "x.npy"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], proc.stderr


def test_an_error_quoting_a_line_break_from_the_data_stays_one_line(tmp_path: Path) -> None:
    path = tmp_path / "pool.jsonl"
    path.write_bytes(b'{"id": {"\\n": null}, "text": "a"}\n')
    with pytest.raises(InputError) as err:
        read(path)
    assert "\n" not in str(err.value) and "field 'id' holds struct<\\n" in str(err.value)
