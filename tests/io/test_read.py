"""Reading pools: every format, ids, projection, streaming, and errors that name the file and line."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.json as pj
import pyarrow.parquet as pq
import pytest

from quadiv.errors import InputError, UsageError
from quadiv.io import _csv, _jsonl, iter_batches, read

ROWS = [{"id": f"r{i}", "text": f"text {i}, with \"quotes\"\nand a newline", "q": i / 4, "n": i}
        for i in range(10)]


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def error_text(excinfo: pytest.ExceptionInfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text
    return text


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse JSON Lines 64 bytes at a time so that every few lines start a new chunk."""
    monkeypatch.setattr(_jsonl, "_CHUNK_BYTES", 64)


# ---------------------------------------------------------------- formats agree with pyarrow itself


def test_jsonl_matches_pyarrow_and_keeps_ids(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", ROWS)
    pool = read(path)
    assert pool.drop_columns([]).equals(pj.read_json(path))
    assert pool["id"].to_pylist() == [r["id"] for r in ROWS]


def test_row_numbers_become_int64_ids_first(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", [{k: v for k, v in r.items() if k != "id"} for r in ROWS])
    pool = read(path)
    assert pool.column_names[0] == "id"
    assert pool.schema.field("id").type == pa.int64()
    assert pool["id"].to_pylist() == list(range(10))


def test_integer_ids_are_int64(tmp_path: Path) -> None:
    table = pa.table({"id": pa.array([5, 3, 9], pa.int32()), "x": ["a", "b", "c"]})
    pq.write_table(table, tmp_path / "a.parquet")
    pool = read(tmp_path / "a.parquet")
    assert pool.schema.field("id").type == pa.int64() and pool["id"].to_pylist() == [5, 3, 9]


def test_gzipped_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(r) + "\n" for r in ROWS)
    assert read(path).equals(read(jsonl(tmp_path / "a.jsonl", ROWS)))


def test_csv_tsv_and_parquet_match_pyarrow(tmp_path: Path) -> None:
    table = pa.Table.from_pylist(ROWS)
    pcsv.write_csv(table, tmp_path / "a.csv")
    pcsv.write_csv(table, tmp_path / "a.tsv", pcsv.WriteOptions(delimiter="\t"))
    pq.write_table(table, tmp_path / "a.parquet")
    for name in ("a.csv", "a.tsv", "a.parquet"):
        assert read(tmp_path / name).equals(table), name


def test_json_array_wrapped_array_and_json_lines(tmp_path: Path) -> None:
    reference = read(jsonl(tmp_path / "ref.jsonl", ROWS))
    (tmp_path / "a.json").write_text(json.dumps(ROWS, indent=2))
    (tmp_path / "b.json").write_text(json.dumps({"version": 1, "data": ROWS}, indent=2))
    (tmp_path / "c.json").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    for name in ("a.json", "b.json", "c.json"):
        assert read(tmp_path / name).equals(reference), name


def test_lists_that_start_with_null_read_as_their_json(tmp_path: Path) -> None:
    """pyarrow 26's JSON reader builds invalid arrays for such lists (offsets past the values); the reader
    notices and parses that chunk with Python's json instead, so the rows are the file's."""
    rows = [{"tags": [None, None], "s": {"a": [None, 1]}}, {"tags": [None, " "], "s": {"a": [2]}},
            {"tags": ["x"], "s": {"a": None}}]
    path = tmp_path / "lists.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    table = read(path)
    table.validate(full=True)
    assert table.drop_columns(["id"]).to_pylist() == rows


def test_date_like_strings_stay_strings(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", [{"day": "2024-01-0" + str(i)} for i in range(1, 6)])
    pool = read(path)
    assert pool.schema.field("day").type == pa.string()
    assert pool["day"].to_pylist()[0] == "2024-01-01"


def test_hf_dataset_directory_matches_datasets(tmp_path: Path) -> None:
    import datasets
    ds = datasets.Dataset.from_list(ROWS * 30)
    ds.save_to_disk(str(tmp_path / "ds"), num_shards=3)
    reference = datasets.load_from_disk(str(tmp_path / "ds")).data.table
    pool = read(tmp_path / "ds")
    assert pool.num_rows == 300 and pool.combine_chunks().equals(reference.combine_chunks())
    assert read(tmp_path / "ds", columns=["q"]).column_names == ["id", "q"]


def test_hf_dataset_dict_asks_for_one_split(tmp_path: Path) -> None:
    import datasets
    split = datasets.Dataset.from_list(ROWS)
    datasets.DatasetDict({"train": split, "test": split}).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(InputError) as excinfo:
        read(tmp_path / "dd")
    assert "DatasetDict" in error_text(excinfo) and str(tmp_path / "dd" / "train") in error_text(excinfo)


def test_plain_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="state.json"):
        read(tmp_path)


def test_shared_alpaca_file(alpaca_path: Path) -> None:
    pool = read(alpaca_path, columns=["output", "quality"])
    assert pool.num_rows == 8050 and pool.column_names == ["id", "output", "quality"]
    assert pool["id"].to_pylist()[0] == "alpaca-7b/fb5e4d4705fb"


# ---------------------------------------------------------------- projection and streaming


@pytest.mark.parametrize("name", ["a.jsonl", "a.csv", "a.parquet", "a.json"])
def test_columns_projection(tmp_path: Path, name: str) -> None:
    table = pa.Table.from_pylist(ROWS)
    path = tmp_path / name
    writers = {"a.jsonl": lambda: jsonl(path, ROWS), "a.csv": lambda: pcsv.write_csv(table, path),
               "a.parquet": lambda: pq.write_table(table, path),
               "a.json": lambda: path.write_text(json.dumps(ROWS))}
    writers[name]()
    pool = read(path, columns=["q"])
    assert pool.column_names == ["id", "q"] and pool["q"].to_pylist() == [r["q"] for r in ROWS]
    batches = list(iter_batches(path, columns=["n"], batch_rows=4))
    assert [b.schema.names for b in batches] == [["id", "n"]] * 3
    with pytest.raises(InputError) as excinfo:
        read(path, columns=["quality"])
    assert all(s in error_text(excinfo) for s in (name, "'quality'", "id, text, q, n"))


def test_iter_batches_cut_exact_sizes_and_continue_row_numbers(tmp_path: Path, small_chunks: None) -> None:
    path = jsonl(tmp_path / "a.jsonl", [{"x": i} for i in range(23)])
    batches = list(iter_batches(path, batch_rows=5))
    assert [b.num_rows for b in batches] == [5, 5, 5, 5, 3]
    assert pa.Table.from_batches(batches)["id"].to_pylist() == list(range(23))
    assert pa.Table.from_batches(batches).equals(read(path))


def test_chunked_jsonl_widens_types_like_read_json(tmp_path: Path, small_chunks: None) -> None:
    rows = ([{"a": 1, "b": None}] * 8 + [{"a": 2.5, "b": "x", "c": [1, 2]}] + [{"a": 3, "b": None}] * 8)
    path = jsonl(tmp_path / "a.jsonl", rows)
    pool = read(path)
    assert len(list(_jsonl.iter_jsonl_tables(str(path)))) > 3
    assert pool.drop_columns(["id"]).equals(pj.read_json(path))


def test_long_lines_and_a_byte_order_mark(tmp_path: Path, small_chunks: None) -> None:
    rows = [{"text": "x" * 500}, {"text": "short"}, {"text": "y" * 300}]
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\n" for r in rows).encode()[:-1])
    assert read(path)["text"].to_pylist() == [r["text"] for r in rows]


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"x": 1}\n\n   \n{"x": 2}\n\n')
    assert read(path)["x"].to_pylist() == [1, 2]


def test_csv_streaming_reads_late_values_of_an_empty_column(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a,b\n" + "1,\n" * 50 + "2,late\n")
    assert [b for batch in iter_batches(path) for b in batch.column(2).to_pylist()][-1] == "late"


def test_batch_rows_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="batch_rows"):
        read(jsonl(tmp_path / "a.jsonl", ROWS), batch_rows=0)


# ---------------------------------------------------------------- errors name the file, line and fix


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as excinfo:
        read(tmp_path / "nope.jsonl")
    assert "nope.jsonl" in error_text(excinfo) and "not found" in error_text(excinfo)


@pytest.mark.parametrize("name,content", [("e.jsonl", ""), ("e.jsonl", "\n\n  \n"), ("e.csv", ""),
                                          ("e.csv", "a,b\n"), ("e.json", "[]"), ("e.json", "")])
def test_empty_inputs_have_no_rows(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content)
    for reader in (read, lambda p: list(iter_batches(p))):
        with pytest.raises(InputError) as excinfo:
            reader(tmp_path / name)
        assert name in error_text(excinfo) and "no rows" in error_text(excinfo)


def test_malformed_jsonl_line_is_numbered_in_any_chunk(tmp_path: Path, small_chunks: None) -> None:
    lines = [json.dumps({"x": i}) for i in range(40)]
    lines[26] = '{"x": 26,'
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    for reader in (read, lambda p: list(iter_batches(p))):
        with pytest.raises(InputError) as excinfo:
            reader(path)
        assert "bad.jsonl: line 27: invalid JSON" in error_text(excinfo)


def test_malformed_line_in_one_big_chunk(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine"}\n\n{"text": "broken"\n{"text": "fine"}\n')
    with pytest.raises(InputError) as excinfo:
        read(path)
    assert "bad.jsonl: line 3: invalid JSON" in error_text(excinfo)


@pytest.mark.parametrize("line,expected", [("[1, 2]", "got an array"), ("3", "got a number"),
                                           ('"x"', "got a string")])
def test_jsonl_line_that_is_not_an_object(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(f'{{"x": 1}}\n{line}\n')
    with pytest.raises(InputError) as excinfo:
        read(path)
    assert f"bad.jsonl: line 2: expected a JSON object, {expected}" in error_text(excinfo)


def test_field_changing_type_names_the_line(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "bad.jsonl", [{"x": 1}, {"x": None}, {"x": "one"}])
    with pytest.raises(InputError) as excinfo:
        read(path)
    assert "line 3: field 'x' is a string here but a number" in error_text(excinfo)


def test_field_changing_type_in_a_later_chunk_names_the_line(tmp_path: Path, small_chunks: None) -> None:
    path = jsonl(tmp_path / "bad.jsonl", [{"x": i} for i in range(20)] + [{"x": "twenty"}])
    with pytest.raises(InputError) as excinfo:
        read(path)
    assert "bad.jsonl: line 21: field 'x' is a string here but a number" in error_text(excinfo)


def test_json_document_errors(tmp_path: Path) -> None:
    cases = {"syntax.json": ('[{"x": 1},\n {"x": 2,]', "line 2: invalid JSON"),
             "item.json": ('[{"x": 1}, 5]', "item 2: expected a JSON object, got a number"),
             "scalar.json": ("42", "expected a list of objects")}
    for name, (text, expected) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(InputError) as excinfo:
            read(tmp_path / name)
        assert f"{name}: {expected}" in error_text(excinfo)


@pytest.mark.parametrize("content,expected", [
    ("a,b\n1,2\n3\n4,5\n", "line 3: expected 2 fields like the header, got 1"),
    ('a,b\n1,2\n"3,4\n5,6\n', "line 3: a quoted field that opens here is not closed"),
])
def test_unreadable_csv_names_the_line(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    for reader in (read, lambda p: list(iter_batches(p))):
        with pytest.raises(InputError) as excinfo:
            reader(path)
        assert f"bad.csv: {expected}" in error_text(excinfo)


def test_binary_garbage_csv(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n1,2\n" + bytes(range(256)) * 4)  # byte 10 ends line 3; line 4 holds 0x80
    with pytest.raises(InputError) as excinfo:
        read(path)
    assert "bad.csv: line 4: not UTF-8 text" in error_text(excinfo)


def test_csv_multiline_quoted_fields_are_values(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('id,text\n1,"two\nlines"\n2,"one ""quoted"" word"\n')
    assert read(path)["text"].to_pylist() == ["two\nlines", 'one "quoted" word']


def test_garbage_parquet(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(InputError) as excinfo:
        read(path)
    assert "bad.parquet: not a readable Parquet file" in error_text(excinfo)


@pytest.mark.parametrize("name", ["data.txt", "data.parquet.gz", "data"])
def test_unknown_extension(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("x")
    with pytest.raises(InputError) as excinfo:
        read(tmp_path / name)
    assert name in error_text(excinfo) and ".jsonl" in error_text(excinfo)


def test_bad_ids(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", [{"id": "a"}, {"id": None}])
    with pytest.raises(InputError) as excinfo:
        read(path)
    assert "a.jsonl: row 2: field 'id' is empty" in error_text(excinfo)
    path = jsonl(tmp_path / "b.jsonl", [{"id": 1.5}])
    with pytest.raises(InputError, match="b.jsonl: field 'id' holds double"):
        read(path)


def test_reading_leaves_the_input_untouched(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", ROWS)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    read(path)
    list(iter_batches(path))
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl"]


def test_csv_streaming_type_change_names_the_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_csv, "_BLOCK_BYTES", 64)
    path = tmp_path / "late.csv"
    path.write_text("s,a,b\n" + "x,1,2\n" * 40 + "y,1.5,z\n")
    with pytest.raises(InputError) as excinfo:
        list(iter_batches(path, columns=["b"]))
    assert "late.csv: field 'b': CSV conversion error to int64: invalid value 'z'" in error_text(excinfo)
    assert read(path).schema.field("b").type == pa.string()


def test_iter_batches_reports_a_missing_file_on_the_call(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        iter_batches(tmp_path / "nope.csv")
