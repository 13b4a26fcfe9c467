"""Every command on the same small pool in every input shape: each format, with and without `id`, templates.

The shapes a new user brings: JSONL (plain and gzipped), JSON arrays and {"data": [...]} objects, CSV/TSV,
Parquet and a saved Hugging Face dataset; integer ids, text ids or none at all (row numbers are the ids);
a guessed text column, a named one, or a template over two columns.
"""
import json
import sys
from pathlib import Path

import pytest

from quadiv import cli, io

FORMATS = ["jsonl", "jsonl.gz", "json", "json-data", "csv", "csv.gz", "tsv", "parquet", "hf"]
IDS = ["none", "int", "text"]


def invoke(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["quadiv", *map(str, args)])
    with pytest.raises(SystemExit) as done:
        cli.main()
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


def expected_ids(ids: str) -> list:
    return {"none": list(range(12)), "int": list(range(100, 112)), "text": [f"row-{i}" for i in range(12)]}[ids]


@pytest.mark.parametrize("ids", IDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_measure_and_select_in_every_shape(monkeypatch, capsys, tmp_path: Path, write_pool, fmt: str,
                                           ids: str) -> None:
    path = write_pool(tmp_path, fmt, ids)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = invoke(monkeypatch, capsys, "measure", path, "--field", "{question}\\n\\n{answer}",
                            "--group-field", "model", "--quality-field", "score", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["n"] == 12 and set(result["groups"]) == {"a", "b"}

    chosen = tmp_path / "out" / "chosen.jsonl"
    chosen.parent.mkdir()
    code, out, err = invoke(monkeypatch, capsys, "select", path, "--field", "answer", "-q", "score", "-n", 4,
                            "-o", chosen, "--json")
    assert code == 0, err
    assert json.loads(out)["selected"] == 4
    table = io.read(chosen)
    assert table.num_rows == 4 and set(table.column("id").to_pylist()) <= set(expected_ids(ids))
    assert {"question", "answer", "score", "model"} <= set(table.column_names)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "out") == before  # inputs untouched


@pytest.mark.parametrize("fmt", FORMATS)
def test_front_report_and_dedup_without_ids(monkeypatch, capsys, tmp_path: Path, write_pool, fmt: str) -> None:
    path = write_pool(tmp_path, fmt, "none")
    front = tmp_path / "front.json"
    code, _, err = invoke(monkeypatch, capsys, "front", path, "--field", "answer", "-q", "score", "-n", 4,
                          "--methods", "random,facility-location", "--tradeoffs", "0,1", "-o", front, "--quiet")
    assert code == 0, err
    assert json.loads(front.read_text())["points"]
    code, _, err = invoke(monkeypatch, capsys, "report", front, "-o", tmp_path / "front.html")
    assert code == 0, err
    assert (tmp_path / "front.html").read_text().startswith("<!DOCTYPE html>")

    kept = tmp_path / "kept.parquet"
    code, out, err = invoke(monkeypatch, capsys, "dedup", path, "--field", "question", "-o", kept, "--json")
    assert code == 0, err
    assert json.loads(out)["kept"] == 4  # four distinct questions
    assert io.read(kept).column("id").to_pylist() == [0, 1, 2, 3]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_guessed_text_field_without_ids(monkeypatch, capsys, tmp_path: Path, write_pool, fmt: str) -> None:
    """No --field: the conventional column (here `answer`) is used, and the summary names it."""
    path = write_pool(tmp_path, fmt, "none")
    code, out, err = invoke(monkeypatch, capsys, "measure", path, "--metrics", "vendi,distinct_2", "--json")
    assert code == 0, err
    assert json.loads(out)["field"] == "answer"
    code, out, err = invoke(monkeypatch, capsys, "select", path, "-n", 2, "-o", tmp_path / "o.csv")
    assert code == 0, err
    assert "field answer" in out
