"""Facility location over partitions (pattern C): the gain merge, GreeDi's round and their records."""
from __future__ import annotations

import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.geometry import unit_rows
from quadiv.select import get_selector
from quadiv.select._facility_location import facility_location_objective


def separated(clusters: int, size: int, d: int = 16, seed: int = 0) -> np.ndarray:
    """Tight clusters around orthogonal centres: every row's nearest neighbours lie in its own cluster."""
    rng = np.random.default_rng(seed)
    centres = np.eye(d)[:clusters]
    X = np.repeat(centres, size, axis=0) + 0.05 * rng.normal(size=(clusters * size, d))
    return unit_rows(X[rng.permutation(len(X))].astype(np.float32))


@pytest.mark.parametrize("tradeoff", [0.0, 0.5])
def test_gain_merge_over_separated_clusters_is_the_single_graph_greedy(tradeoff) -> None:
    """No kNN edge crosses the k-means parts, so the objective decomposes and the merge is exact greedy."""
    X = separated(4, 300)
    quality = np.random.default_rng(1).random(len(X))
    whole = get_selector("facility-location", mode="sparse", n_neighbors=16, knn="exact").select(
        X, 60, quality, tradeoff)
    parts = get_selector("facility-location", mode="sparse", n_neighbors=16, knn="exact", partition="kmeans",
                         partitions=4).select(X, 60, quality, tradeoff)
    assert parts.params["partitions"] == 4 and parts.params["partition_rows"] == [300, 300]
    assert np.array_equal(parts.indices, whole.indices)
    assert parts.gains == pytest.approx(whole.gains, rel=1e-9)
    assert parts.objective == pytest.approx(whole.objective, rel=1e-9)
    assert np.all(np.diff(parts.gains) <= 1e-12)  # the merged gains are the greedy's, non-increasing


def test_gain_merge_asks_a_part_for_more_when_its_list_runs_out() -> None:
    """The merge returns the k largest gains of all parts, each part's picks in its own order, asking a
    part for its next picks whenever its list runs out: checked against one sort of every part's gains."""
    from quadiv.select._fl_partitions import _merge_gains

    rng = np.random.default_rng(2)
    sizes = [500, 20, 20, 60]
    rows = np.split(rng.permutation(sum(sizes)), np.cumsum(sizes)[:-1])
    gains = [np.sort(rng.integers(0, 30, m).astype(float))[::-1] for m in sizes]  # many ties
    gains[1] += 20  # a small part with the largest gains: its first list (ceil(2 k 20 / 600) = 5) runs out
    served, asked = [0] * 4, []

    def call(method, args_list, which=None):
        assert method == "more"
        answers = []
        for p, (count,) in zip(range(4) if which is None else which, args_list, strict=True):
            asked.append(p)
            lo, served[p] = served[p], min(sizes[p], served[p] + count)
            answers.append((rows[p][lo:served[p]], gains[p][lo:served[p]]))
        return answers

    picks, merged = _merge_gains(call, sizes, 80, sum(sizes))
    assert merged.tolist() == sorted(np.concatenate(gains).tolist(), reverse=True)[:80]
    for p in range(4):  # each part's picks are a prefix of its own sequence, in its order
        mine = [int(r) for r in picks if r in set(rows[p].tolist())]
        assert mine == rows[p][:len(mine)].tolist()
    assert asked.count(1) > 1 and len(asked) > 4


def test_one_part_is_the_local_sparse_greedy() -> None:
    X = unit_rows(np.random.default_rng(3).normal(size=(900, 12)).astype(np.float32))
    q = np.random.default_rng(4).random(900)
    whole = get_selector("facility-location", mode="sparse").select(X, 50, q, 0.3, seed=7)
    one = get_selector("facility-location", partition="kmeans", partitions=1).select(X, 50, q, 0.3, seed=7)
    assert np.array_equal(one.indices, whole.indices) and one.objective == pytest.approx(whole.objective, rel=1e-8)


@pytest.mark.parametrize("partition", ["random", "kmeans"])
def test_greedi_round_is_greedy_over_the_proposals_on_the_exact_objective(partition) -> None:
    """With the sample as large as the pool and uniform weights, GreeDi's objective is the exact f, and
    its picks are naive greedy over the union of the parts' proposals (checked by brute force) unless a
    single part's proposals score higher."""
    rng = np.random.default_rng(5)
    X = unit_rows(rng.normal(size=(400, 8)).astype(np.float32))
    q, k, t = rng.random(400), 12, 0.4
    sel = get_selector("facility-location", weighting="uniform", partition=partition, partitions=3,
                       merge="greedi", ground_rows=10_000, check_rows=0).select(X, k, q, t, seed=1)
    exact = facility_location_objective(X, sel.indices, q, t, weighting="uniform")
    assert sel.objective == pytest.approx(exact, rel=1e-6)
    assert sel.params["ground_rows"] == 400 and sel.params["proposals"] == 3 * k
    picked: list[int] = []
    union = _union_of_proposals(X, q, t, k, partition)
    for _ in range(k):
        rest = [j for j in union if j not in picked]
        values = [facility_location_objective(X, [*picked, j], q, t, k, weighting="uniform") for j in rest]
        picked.append(rest[int(np.argmax(values))])
    naive = facility_location_objective(X, picked, q, t, k, weighting="uniform")
    assert sel.objective >= naive - 1e-6
    if not np.isnan(sel.gains).all():  # the second round's picks won
        assert sel.indices.tolist() == picked


def _union_of_proposals(X, q, t, k, partition) -> list[int]:
    """Each part's first k picks of the sparse greedy with the pool's normalisers (uniform weights: W = n)."""
    from quadiv.geometry import knn_graph
    from quadiv.select._base import unit_quality
    from quadiv.select._facility_location import SparseGreedy
    from quadiv.select._fl_partitions import _labels

    q = unit_quality(q, len(X))  # the pool's percentile ranks, as the selector's parts get them
    labels = _labels(X, 3, partition, 1)
    union: list[int] = []
    for p in range(3):
        rows = np.flatnonzero(labels == p)
        nbr, sim = knn_graph(X[rows], 32)
        picks, _ = SparseGreedy(nbr, sim, q[rows], (1 - t) / len(X), t / k).take(k)
        union.extend(rows[picks].tolist())
    return union


def test_partitioned_runs_record_their_scheme_and_a_sample_check() -> None:
    rng = np.random.default_rng(6)
    centres = rng.normal(size=(30, 16))
    X = unit_rows((centres[rng.integers(0, 30, 6000)] + 0.4 * rng.normal(size=(6000, 16))).astype(np.float32))
    sel = get_selector("facility-location", partition="kmeans", partitions=3, check_rows=3000).select(X, 100, seed=2)
    p = sel.params
    assert (p["partition"], p["partitions"], p["merge"], p["seed"]) == ("kmeans", 3, "gains", 2)
    assert "no worst-case bound" in p["guarantee"]
    check = p["sample_check"]
    assert (check["rows"], check["budget"], check["partitions"]) == (3000, 50, 3)
    assert check["ratio"] >= 0.97
    random = get_selector("facility-location", partition="random", partitions=3, check_rows=0).select(X, 100, seed=2)
    assert random.params["merge"] == "greedi" and "RandGreeDi" in random.params["guarantee"]
    assert "sample_check" not in random.params and len(set(random.indices.tolist())) == 100


@pytest.mark.parametrize(("params", "message"), [
    ({"partition": "stripes"}, "partition must be one of none, kmeans, random"),
    ({"merge": "vote"}, "merge must be one of auto, gains, greedi"),
    ({"partition": "random", "merge": "gains"}, "merge 'gains' needs parts that keep neighbours together"),
    ({"partitions": -1}, "partitions must be a whole number >= 0"),
    ({"ground_rows": 0}, "ground_rows must be a whole number >= 1"),
])
def test_bad_partition_settings_are_one_line_errors(params, message) -> None:
    with pytest.raises(UsageError, match=message):
        get_selector("facility-location", **params)


def test_the_cli_reports_the_scheme_of_a_partitioned_run(monkeypatch, capsys, tmp_path) -> None:
    import json
    import sys

    from quadiv import cli

    rng = np.random.default_rng(7)
    np.save(tmp_path / "X.npy", unit_rows(rng.normal(size=(3000, 8)).astype(np.float32)))
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"text": f"row {i}"}) + "\n" for i in range(3000)))
    base = ["quadiv", "select", str(pool), "--embeddings", str(tmp_path / "X.npy"), "-n", "30",
            "--param", "partition=kmeans", "--param", "partitions=2", "-o", str(tmp_path / "out.jsonl")]
    for extra in (["--json"], []):
        monkeypatch.setattr(sys, "argv", [*base, *extra])
        with pytest.raises(SystemExit) as done:
            cli.main()
        assert done.value.code == 0
        out = capsys.readouterr().out
        if extra:
            params = json.loads(out)["params"]
            assert (params["partition"], params["partitions"], params["merge"]) == ("kmeans", 2, "gains")
            assert set(params["sample_check"]) == {"rows", "budget", "partitions", "ratio"}
        else:
            assert "2 kmeans parts, gains merge (seed 0)" in out and "sample check:" in out
