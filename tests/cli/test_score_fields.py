"""`select --method odis --score-fields`, `measure --reference/--taxonomy` with the new metrics, run through main()."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from quadiv import io
from quadiv.cli import main
from quadiv.select import select


def cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["quadiv", *args])
    with pytest.raises(SystemExit) as done:
        main()
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


@pytest.fixture
def scored(tmp_path):
    rng = np.random.default_rng(0)
    rows = [{"text": f"answer {i} about {['cats', 'rain', 'maths'][i % 3]}", "domain": ["x", "y"][i % 2],
             "a": float(rng.normal()), "b": float(rng.normal()), "c": i % 5} for i in range(40)]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    X = rng.standard_normal((40, 8)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    np.save(tmp_path / "X.npy", X)
    return path, tmp_path / "X.npy", X, np.array([[r["a"], r["b"], r["c"]] for r in rows])


def test_odis_reads_the_score_matrix_from_the_named_columns(scored, tmp_path, monkeypatch, capsys):
    path, npy, X, scores = scored
    out_path = tmp_path / "chosen.jsonl"
    code, out, err = cli(monkeypatch, capsys, "select", str(path), "--embeddings", str(npy), "-n", "8",
                         "--method", "odis", "--score-fields", "a, b,c", "-o", str(out_path), "--json")
    assert code == 0, err
    assert json.loads(out)["score_fields"] == ["a", "b", "c"]
    expected = select(X, 8, method="odis", scores=scores).indices
    assert io.read(str(out_path))["text"].to_pylist() == [f"answer {i} about {['cats', 'rain', 'maths'][i % 3]}"
                                                          for i in expected]


@pytest.mark.parametrize("args, needle", [
    (["--method", "odis", "--score-fields", "a,missing"], "rows.jsonl: field 'missing' not found"),
    (["--method", "mmr", "--score-fields", "a"], "--score-fields gives a score matrix, which method 'mmr' does not take"),
    (["--method", "odis"], "needs scores: pass scores (CLI: --score-fields)"),
    (["--method", "odis", "--score-fields", "text"], "row 1: field 'text' is 'answer 0 about cats', not a number"),
])
def test_a_bad_score_matrix_is_one_line_and_exit_2(scored, tmp_path, monkeypatch, capsys, args, needle):
    path, npy, _, _ = scored
    code, _, err = cli(monkeypatch, capsys, "select", str(path), "--embeddings", str(npy), "-n", "8",
                       "-o", str(tmp_path / "chosen.jsonl"), *args)
    assert code == 2 and needle in err and err.count("\n") == 1, err
    assert not (tmp_path / "chosen.jsonl").exists()


def test_measure_reports_domains_against_the_taxonomy_and_novelty_against_the_reference(
        scored, tmp_path, monkeypatch, capsys):
    path = scored[0]
    reference = tmp_path / "reference.jsonl"
    reference.write_text("".join(json.dumps({"text": t}) + "\n" for t in ["answer about cats", "answer 3 about rain"] * 4))
    code, out, err = cli(monkeypatch, capsys, "measure", str(path), "--field", "text", "--group-field", "domain",
                         "--taxonomy", "x,y,z,w", "--reference", str(reference), "--k", "2", "--metrics",
                         "domain_coverage,domain_evenness,within_domain_vendi", "--json")
    assert code == 0, err
    metrics = json.loads(out)["metrics"]
    assert metrics["domain_coverage"] == 0.5 and metrics["domain_evenness"] == pytest.approx(0.5)
    assert 0 < metrics["novelty"] < 1 and 0 < metrics["novelty_ngram"] < 1
    code, _, err = cli(monkeypatch, capsys, "measure", str(path), "--field", "text", "--group-field", "domain",
                       "--taxonomy", "x", "--metrics", "domain_coverage")
    assert code == 2 and "domain 'y' is not in the --taxonomy (1 domains)" in err


def test_methods_lists_odis_and_the_new_metrics(monkeypatch, capsys):
    code, out, _ = cli(monkeypatch, capsys, "methods")
    assert code in (0, None)
    for name in ("odis", "domain_coverage", "domain_evenness", "within_domain_vendi", "novelty", "novelty_ngram",
                 "novelty_utility"):
        assert f"  {name} " in out, name
