"""score(): dedup, batching, the SQLite cache, resume after a failure, and spec parsing."""
from __future__ import annotations

import numpy as np
import pytest

from quadiv.errors import ParameterError, UnknownNameError, UsageError
from quadiv.quality import SCORERS, Item, ScoreCache, Scores, get_scorer, register_scorer, score, split_params


class LengthScorer:
    """Scores a text by its length in characters; counts the items it was asked to score.

    Parameters:
        scale: multiplies every score.
        fail_after: raise after scoring this many batches (None: never).
    """

    column, higher_is_better, batch_size, needs_instruction = "length", True, 2, False

    def __init__(self, scale: float = 1.0, fail_after: int | None = None):
        self.scale, self.fail_after, self.seen, self.batches = scale, fail_after, [], 0
        self.name = f"length(scale={scale})"

    def score(self, items):
        if self.fail_after is not None and self.batches >= self.fail_after:
            raise RuntimeError("killed")
        self.batches += 1
        self.seen += [it.text for it in items]
        values = np.array([np.nan if not it.text else self.scale * len(it.text) for it in items])
        return Scores(values, {"length_keep": np.array([len(it.text) > 2 for it in items]),
                               "note": np.array([it.instruction or "" for it in items], dtype=object)})


@pytest.fixture
def length_scorer(monkeypatch):
    monkeypatch.setitem(SCORERS, "length", LengthScorer)
    return LengthScorer


def test_scores_in_order_with_duplicates_scored_once(tmp_path):
    model = LengthScorer()
    out = score(["abc", "", "abcd", "abc"], model, cache=ScoreCache(model.name, tmp_path / "s.sqlite"))
    np.testing.assert_array_equal(out.values, [3, np.nan, 4, 3])
    assert model.seen == ["abc", "", "abcd"]
    assert out.columns["length_keep"].tolist() == [True, False, True, True]


def test_second_run_reads_everything_from_the_cache(tmp_path):
    path = tmp_path / "s.sqlite"
    first = score(["abc", "", "xy z"], LengthScorer(), cache=ScoreCache("length(scale=1.0)", path))
    again = LengthScorer()
    second = score(["xy z", "abc", ""], again, cache=ScoreCache(again.name, path))
    assert again.seen == []
    np.testing.assert_array_equal(second.values, first.values[[2, 0, 1]])
    assert second.columns["length_keep"].tolist() == [True, True, False]


def test_a_killed_run_keeps_its_finished_batches(tmp_path):
    path = tmp_path / "s.sqlite"
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    with pytest.raises(RuntimeError):
        score(texts, LengthScorer(fail_after=1), cache=ScoreCache("length(scale=1.0)", path))
    resumed = LengthScorer()
    out = score(texts, resumed, cache=ScoreCache(resumed.name, path))
    assert resumed.seen == ["ccc", "dddd", "eeeee"]  # batch 1 (a, bb) came from the cache
    np.testing.assert_array_equal(out.values, [1, 2, 3, 4, 5])


def test_pairs_are_keyed_by_instruction_too(tmp_path):
    model = LengthScorer()
    out = score([Item("ab", "q1"), Item("ab", "q2"), Item("ab", "q1")], model,
                cache=ScoreCache(model.name, tmp_path / "s.sqlite"))
    assert len(model.seen) == 2
    assert out.columns["note"].tolist() == ["q1", "q2", "q1"]


def test_progress_counts_input_items(tmp_path):
    seen = []
    score(["a", "a", "b", "c"], LengthScorer(), cache=False, progress=seen.append)
    assert seen[0] == 0 and seen[-1] == 4


def test_specs_build_through_the_registry(length_scorer):
    assert get_scorer("length", scale=2.0).name == "length(scale=2.0)"
    with pytest.raises(UnknownNameError, match="unknown scorer 'nope'"):
        get_scorer("nope")
    with pytest.raises(ParameterError):
        get_scorer("length", width=3)
    with pytest.raises(UsageError, match="takes no argument"):
        get_scorer("length:x")


def test_a_prefix_with_an_argument_requires_it(monkeypatch):
    class Dir(LengthScorer):
        def __init__(self, path: str, scale: float = 1.0):
            super().__init__(scale)
            self.name = f"dir({path})"

    monkeypatch.setitem(SCORERS, "dir", Dir)
    register_scorer("dir", Dir, argument="a model directory")
    assert get_scorer("dir:/m").name == "dir(/m)"
    with pytest.raises(UsageError, match="needs a model directory"):
        get_scorer("dir")


def test_split_params_routes_by_prefix_and_name(length_scorer):
    assert split_params({"length.scale": 2, "scale": 3}, ["length"]) == {"length": {"scale": 3}}
    with pytest.raises(UsageError, match="no scorer of this run takes parameter 'width'"):
        split_params({"width": 1}, ["length"])
    with pytest.raises(UsageError, match="names scorer 'rm'"):
        split_params({"rm.batch": 1}, ["length"])
