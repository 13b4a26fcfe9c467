"""Axes, the native multi-element archive and the pyribs adapter: binning, insertion rules, statistics."""
from __future__ import annotations

import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.search import QDAIF_TICKS, Axis, Elite, MultiElementArchive, RibsArchive


def test_qdaif_ticks_put_known_scores_into_known_bins():
    axis = Axis("sentiment", ticks=QDAIF_TICKS)
    scores, bins = [0.001, 0.3, 0.97, 0.999], [0, 9, 15, 19]
    assert axis.size == 20
    assert [axis.index(s) for s in scores] == bins
    native, ribs = MultiElementArchive([axis], cap=1), RibsArchive.grid([axis])
    for k, s in enumerate(scores):
        assert native.add(Elite(str(k), f"t{k}", 1.0, (s,))) and ribs.add(Elite(str(k), f"t{k}", 1.0, (s,)))
    assert sorted(c[0] for c in native.cells()) == bins == sorted(c[0] for c in ribs.cells())
    assert all(axis.remap(t) == k for k, t in enumerate(QDAIF_TICKS))  # bin k is [k, k + 1) after the remap


def test_values_outside_the_ticks_clip_to_the_end_bins_and_unknown_categories_have_no_cell():
    axis = Axis.numeric("x", bins=4, low=0, high=1)
    assert [axis.index(v) for v in (-5, 0, 0.25, 0.999, 1.0, 7)] == [0, 0, 1, 3, 3, 3]
    assert axis.index(float("nan")) is None
    style = Axis("style", categories=["a", "b"])
    assert style.index("b") == 1 and style.index("c") is None


@pytest.mark.parametrize("kwargs", [{"categories": []}, {"ticks": [0.0]}, {"ticks": [0, 1, 1]}, {},
                                    {"categories": ["a"], "ticks": [0, 1]}, {"categories": ["a", "a"]}])
def test_bad_axes_are_refused(kwargs):
    with pytest.raises(UsageError):
        Axis("x", **kwargs)


def test_cap_keeps_the_best_and_threshold_keeps_out_the_weak():
    archive = MultiElementArchive([Axis("c", categories=["a"])], threshold=0.5, cap=2)
    results = [archive.add(Elite(str(k), str(k), f, ("a",))) for k, f in enumerate([0.4, 0.6, 0.9, 0.5, 0.7, 0.65])]
    assert results == [False, True, True, False, True, False]
    assert [e.fitness for e in archive.elites()] == [0.9, 0.7]
    assert archive.stats() == {"qd_score": 0.9, "coverage": 1.0, "num_elites": 2, "best": 0.9, "mean": 0.8}


def test_a_contest_verdict_replaces_or_keeps_the_incumbent_in_both_archives():
    axes = [Axis("c", categories=["a", "b"])]
    for archive in (MultiElementArchive(axes, cap=1), RibsArchive.grid(axes)):
        assert archive.add(Elite("0", "first", 0.9, ("a",)), wins=True)  # an empty cell takes it
        assert not archive.add(Elite("1", "loser", 0.99, ("a",)), wins=False)
        assert archive.add(Elite("2", "winner", 0.1, ("a",)), wins=True)
        assert archive.incumbent((0,)).text == "winner" and archive.stats()["best"] == 0.1


def test_cvt_and_proximity_adapters_hold_texts():
    cvt = RibsArchive.cvt(cells=16, ranges=[(0, 1), (0, 1)], samples=2000)
    assert cvt.add(Elite("0", "a text", 0.5, (0.2, 0.3))) and cvt.num_cells == 16
    assert cvt.records()[0]["text"] == "a text" and cvt.stats()["coverage"] == 1 / 16
    near = RibsArchive.proximity(measure_dim=2, k_neighbors=1, novelty_threshold=0.2)
    added = [near.add(Elite(str(k), f"t{k}", 1.0, p)) for k, p in enumerate([(0, 0), (0.05, 0), (0.5, 0)])]
    assert added == [True, False, True] and near.stats()["coverage"] is None


def test_records_name_cells_by_their_labels():
    axes = [Axis("genre", categories=["horror", "romance"]), Axis.numeric("p", bins=2)]
    archive = MultiElementArchive(axes)
    archive.add(Elite("7", "boo", 0.3, ("horror", 0.9), parent="3", iteration=2, extras={"response": "r"}))
    assert archive.records() == [{"id": "7", "text": "boo", "cell": ["horror", "0.5-1"], "cell_index": [0, 1],
                                  "fitness": 0.3, "descriptors": ["horror", 0.9], "parent": "3", "iteration": 2,
                                  "response": "r"}]


def test_sampling_is_uniform_over_elites_and_seeded():
    archive = MultiElementArchive([Axis.numeric("x", bins=10)])
    for k in range(10):
        archive.add(Elite(str(k), str(k), 1.0, (k / 10 + 0.01,)))
    a = [e.id for e in archive.sample(50, np.random.default_rng(3))]
    assert a == [e.id for e in archive.sample(50, np.random.default_rng(3))] and len(set(a)) > 5
