"""`quadiv generate` reads its prompts from every input shape: each format, with and without `id`."""
import json
import sys
from pathlib import Path

import pytest

from quadiv import cli

FORMATS = ["jsonl", "jsonl.gz", "json", "json-data", "csv", "csv.gz", "tsv", "parquet", "hf"]


@pytest.mark.parametrize("ids", ["none", "int", "text"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_generate_in_every_shape(monkeypatch, capsys, tmp_path: Path, write_pool, fake_openai, fmt, ids) -> None:
    path = write_pool(tmp_path, fmt, ids)
    _, url = fake_openai()
    out = tmp_path / "out.jsonl"
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setattr(sys, "argv", ["quadiv", "generate", str(path), "-b", "openai", "-m", "m", "--base-url", url,
                                      "--field", "{question}: {answer}", "--n", "2", "-o", str(out), "--json"])
    with pytest.raises(SystemExit) as done:
        cli.main()
    captured = capsys.readouterr()
    assert done.value.code == 0, captured.err
    assert json.loads(captured.out)["rows"] == 24
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    expected = {"none": list(range(12)), "int": list(range(100, 112)), "text": [f"row-{i}" for i in range(12)]}[ids]
    assert sorted({r["prompt_id"] for r in rows}, key=str) == sorted(expected, key=str)
    assert rows[0]["prompt"] == "question 0: answer 0 talks about cats"
