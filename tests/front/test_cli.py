"""`quadiv front` end to end through Typer's CliRunner on a throwaway app (no model: --embeddings X.npy)."""
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

import quadiv.report
from quadiv import io
from quadiv.cli.front import front_command
from quadiv.errors import UsageError

app = typer.Typer()
app.command("front")(front_command)
app.command("noop")(lambda: None)  # two commands, so `front` is a subcommand as in the real CLI


def invoke(*args: str):
    return CliRunner().invoke(app, ["front", *args], catch_exceptions=True)


def test_sweep_writes_front_json(small_pool, tmp_path: Path, monkeypatch):
    path, npy, _ = small_pool
    calls = []
    monkeypatch.setattr(quadiv.report, "build_report",
                        lambda result, out, **kw: calls.append((result, out, kw)) or [out], raising=False)
    out = tmp_path / "front.json"
    res = invoke(str(path), "--budget", "20", "--embeddings", str(npy), "-q", "quality", "--tradeoffs", "0,0.5,1",
                 "--methods", "mmr,dpp", "-o", str(out), "--report", str(tmp_path / "r.html"), "--json", "--quiet")
    assert res.exit_code == 0, res.output
    printed = json.loads(res.stdout)
    written = json.loads(out.read_text())
    assert printed == written
    assert written["objectives"] == {"quality_mean": "max", "vendi": "max"}
    assert len(written["points"]) == 6 and written["n"] == 300 and written["input"] == str(path)
    assert set(written["hypervolume"]) == {"reference", "value"} and written["points"][written["knee"]]["pareto"]
    assert {p["method"] for p in written["points"]} == {"mmr", "dpp"}
    assert calls and calls[0][1] == str(tmp_path / "r.html") and calls[0][2]["kind"] == "front"
    rows = calls[0][2]["rows"]  # the knee's selection feeds the report's other panels
    knee = written["points"][written["knee"]]
    assert len(rows["quality_after"]) == 20 and len(rows["quality_before"]) == 300
    assert np.mean(rows["quality_after"]) == pytest.approx(knee["metrics"]["quality_mean"])
    assert sum(rows["map"]["chosen"]) == 20


def test_table_summary_and_from_table(small_pool, tmp_path: Path):
    path, npy, _ = small_pool
    out = tmp_path / "front.json"
    res = invoke(str(path), "-n", "15", "--embeddings", str(npy), "-q", "quality", "--tradeoffs", "0:1:3",
                 "--methods", "cluster", "--objectives", "quality_mean:max,distinct_2:max", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert "on the front" in res.stdout and "cluster" in res.stdout
    rows = [{"temperature": t, "quality": 1 - t * t, "diversity": t} for t in (0.1, 0.5, 0.9, 1.3)]
    rows.append({"temperature": 2.0, "quality": -4.0, "diversity": 1.0})  # dominated by t = 1.3
    table = tmp_path / "results.parquet"
    io.write(pa.Table.from_pylist(rows), str(table))
    res = invoke("--from", str(table), "--objectives", "quality:max,diversity:max", "-o", str(out), "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["pareto"] == [0, 1, 2, 3]
    assert result["points"][0]["params"] == {"temperature": 0.1}


def test_usage_errors(small_pool, tmp_path: Path):
    path, npy, _ = small_pool
    out = str(tmp_path / "f.json")
    for args, message in [
        ((str(path), "--embeddings", str(npy), "-o", out), "--budget"),
        (("-o", out), "either INPUT"),
        ((str(path), "--from", str(path), "-n", "5", "-o", out), "not both"),
        ((str(path), "-n", "5", "--embeddings", str(npy), "--methods", "nope", "-o", out), "unknown selection"),
        ((str(path), "-n", "5", "--embeddings", str(npy), "--tradeoffs", "0:1", "-o", out), "START:STOP:COUNT"),
        ((str(path), "-n", "5", "--embeddings", str(npy), "--objectives", "vendi", "-o", out), "two objectives"),
        (("--from", str(path), "-n", "5", "-o", out), "only apply to a sweep"),
    ]:
        res = invoke(*args)
        assert isinstance(res.exception, UsageError), (args, res.output)
        assert message in str(res.exception)
    assert not Path(out).exists()
