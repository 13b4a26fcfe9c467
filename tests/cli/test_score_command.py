"""`quadiv score` and `--quality SCORER` with a plug-in scorer, run in-process through main()."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from quadiv import io
from quadiv.cli import main
from quadiv.quality import SCORERS, Scores


class WordCount:
    """Scores a text by its number of words; lower is better when ``lower`` is set.

    Parameters:
        lower: declare lower-is-better (the scores are the same).
    """

    column, batch_size, needs_instruction = "words", 4, False

    def __init__(self, lower: bool = False):
        self.higher_is_better = not lower
        self.name = f"words(lower={lower})"

    def score(self, items):
        counts = [len(it.text.split()) for it in items]
        return Scores(np.array([np.nan if c == 0 else c for c in counts], dtype=float),
                      {"words_keep": np.array([c >= 3 for c in counts])})


class PairLength(WordCount):
    """Scores the instruction's length in characters.

    Parameters:
        lower: unused.
    """

    column, needs_instruction = "pair", True

    def score(self, items):
        return Scores(np.array([float(len(it.instruction)) for it in items]))


@pytest.fixture
def scorers(monkeypatch, tmp_path):
    monkeypatch.setenv("QUADIV_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(SCORERS, "words", WordCount)
    monkeypatch.setitem(SCORERS, "pair", PairLength)


@pytest.fixture
def rows(tmp_path):
    path = tmp_path / "rows.jsonl"
    texts = ["one two three", "a b", "", "four five six seven", "x y z w v"]
    path.write_text("".join(json.dumps({"prompt": f"q{i}" * (i + 1), "text": t}) + "\n"
                            for i, t in enumerate(texts)))
    return path


def cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["quadiv", *args])
    with pytest.raises(SystemExit) as done:
        main()
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


def test_score_writes_rows_plus_score_columns(scorers, rows, tmp_path, monkeypatch, capsys):
    out_path = tmp_path / "scored.parquet"
    code, out, err = cli(monkeypatch, capsys, "score", str(rows), "-s", "words,pair", "-o", str(out_path),
                         "--json")
    assert code == 0, err
    table = io.read(str(out_path))
    assert table.column_names == ["id", "prompt", "text", "words", "words_keep", "pair"]  # the reader adds id
    assert table["words"].to_pylist() == [3, 2, None, 4, 5]
    assert table["pair"].to_pylist() == [2.0, 4.0, 6.0, 8.0, 10.0]  # the guessed instruction column
    summary = json.loads(out)["scores"]
    assert summary["words"]["nan"] == 1 and summary["words"]["true_counts"] == {"words_keep": 3}


def test_score_never_writes_onto_its_input(scorers, rows, monkeypatch, capsys):
    before = rows.read_bytes()
    code, _, err = cli(monkeypatch, capsys, "score", str(rows), "-s", "words", "-o", str(rows))
    assert code == 2 and "never overwrites its input" in err
    assert rows.read_bytes() == before


def test_unknown_scorer_is_one_line_and_writes_nothing(scorers, rows, tmp_path, monkeypatch, capsys):
    out_path = tmp_path / "scored.jsonl"
    code, _, err = cli(monkeypatch, capsys, "score", str(rows), "-s", "words,nope", "-o", str(out_path))
    assert code == 2 and err.startswith("error: unknown scorer 'nope'") and len(err.splitlines()) == 1
    assert not out_path.exists()


def test_select_with_quality_scorer_uses_its_scores(scorers, rows, tmp_path, monkeypatch, capsys):
    out_path, npy = tmp_path / "chosen.jsonl", tmp_path / "x.npy"
    X = np.eye(5, 3, dtype=np.float32) + 0.1
    np.save(npy, X / np.linalg.norm(X, axis=1, keepdims=True))
    code, out, err = cli(monkeypatch, capsys, "select", str(rows), "--quality", "words", "--quality-missing", "drop",
                         "-t", "1", "-n", "2", "--method", "top-quality", "--embeddings", str(npy), "-o",
                         str(out_path), "--json")
    assert code == 0, err
    assert [r["words"] for r in io.read(str(out_path)).to_pylist()] == [5, 4]
    code, out, err = cli(monkeypatch, capsys, "select", str(rows), "--quality", "words", "--quality-param",
                         "lower=true", "--quality-missing", "drop", "-t", "1", "-n", "2", "--method", "top-quality",
                         "--embeddings", str(npy), "-o", str(out_path), "--json")
    assert code == 0, err
    assert [r["words"] for r in io.read(str(out_path)).to_pylist()] == [2, 3]  # lower is better: fewest words


def test_quality_scorer_and_field_are_exclusive(scorers, rows, tmp_path, monkeypatch, capsys):
    code, _, err = cli(monkeypatch, capsys, "measure", str(rows), "--quality", "words", "-q", "words")
    assert code == 2 and "not both" in err


def test_methods_lists_the_scorers_with_their_parameters(scorers, monkeypatch, capsys):
    code, out, _ = cli(monkeypatch, capsys, "methods")
    section = out.split("quality scorers")[1]
    assert "words" in section and "Scores a text by its number of words" in section and "lower" in section


def test_complexity_reads_the_guessed_instruction_column(scorers, rows, tmp_path, monkeypatch, capsys):
    out_path = tmp_path / "scored.jsonl"
    code, _, err = cli(monkeypatch, capsys, "score", str(rows), "-s", "complexity", "-o", str(out_path))
    assert code == 0, err
    assert io.read(str(out_path))["complexity_words"].to_pylist() == [1.0] * 5  # 'q0q0...' is one word


def test_methods_lists_the_metrics_from_the_registry(scorers, monkeypatch, capsys):
    from quadiv.measure import METRICS

    _, out, _ = cli(monkeypatch, capsys, "methods")
    section = out.split("metrics (")[1].split("embedders")[0]
    assert all(f"  {name} " in section for name in METRICS.names()) and "vendi_q<order>" in section


def test_combine_writes_the_combined_column_and_says_how(scorers, rows, tmp_path, monkeypatch, capsys):
    out_path = tmp_path / "scored.jsonl"
    code, out, err = cli(monkeypatch, capsys, "score", str(rows), "-s", "words,pair", "--combine", "rank",
                         "--combine-nan", "skip", "-o", str(out_path))
    assert code == 0, err
    combined = io.read(str(out_path))["combined_quality"].to_pylist()
    # words [3, 2, nan, 4, 5] ranks [2/4, 1/4, -, 3/4, 1]; pair [2..10] ranks [1/5 .. 1]; row 3 has pair only
    assert combined == pytest.approx([(0.5 + 0.2) / 2, (0.25 + 0.4) / 2, 0.6, (0.75 + 0.8) / 2, 1.0])
    assert "combined_quality: rank per column, then mean" in out
    code, _, err = cli(monkeypatch, capsys, "score", str(rows), "-s", "words", "--combine", "rank", "-o", str(out_path))
    assert code == 2 and "--combine-nan skip" in err and "row 3" in err
