"""Tests for exact, MinHash-LSH and semantic (SemDeDup) deduplication."""
import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.select import dedup
from quadiv.select._dedup import normalize_text

WORDS = [f"w{i}" for i in range(400)]


def unique_texts(n, length=12, seed=0):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=length, replace=False)) for _ in range(n)]


def check_consistent(result, n):
    keep = set(result.keep.tolist())
    assert all(result.cluster_of[i] == i for i in keep)
    assert all(result.cluster_of[i] in keep for i in range(n))
    assert sum(result.removed.values()) == n - len(keep)


def test_exact_keeps_best_and_ties_go_to_first_index():
    texts = ["Hello  World", "hello world", "other", "HELLO world ", "other"]
    result = dedup(texts, quality=np.array([1.0, 3.0, 2.0, 3.0, 2.0]))
    np.testing.assert_array_equal(result.keep, [1, 2])
    np.testing.assert_array_equal(result.cluster_of, [1, 1, 2, 1, 2])
    assert result.removed == {"exact": 3}
    assert normalize_text("  A\tB\n c ") == "a b c"


def test_minhash_near_duplicates():
    base = unique_texts(3, length=30)
    near = base[0].rsplit(" ", 1)[0] + " changed"  # one word of 30 changed: Jaccard 25/27
    texts = base + [near]
    result = dedup(texts, quality=np.array([0.0, 0.0, 0.0, 1.0]), minhash_threshold=0.7)
    np.testing.assert_array_equal(result.keep, [1, 2, 3])
    assert result.cluster_of[0] == 3
    assert result.removed == {"exact": 0, "minhash": 1}
    check_consistent(result, 4)


def test_semantic_duplicates_by_cosine():
    X = np.array([[1.0, 0.0], [0.999, 0.045], [0.0, 1.0], [0.7, 0.7]])
    texts = ["a", "b", "c", "d"]
    result = dedup(texts, X, quality=np.array([0.0, 1.0, 0.0, 0.0]), exact=False, semantic_threshold=0.99)
    np.testing.assert_array_equal(result.keep, [1, 2, 3])
    assert result.cluster_of[0] == 1 and result.removed == {"semantic": 1}
    with pytest.raises(UsageError, match="embeddings"):
        dedup(texts, semantic_threshold=0.9)


@pytest.mark.parametrize("seed", range(3))
def test_keeps_best_of_each_group_and_never_drops_unique(seed):
    rng = np.random.default_rng(seed)
    originals = unique_texts(40, seed=seed)
    texts, source = [], []
    for i, text in enumerate(originals):
        for _ in range(int(rng.integers(1, 4))):
            texts.append(text.upper() if rng.random() < 0.5 else "  " + text)
            source.append(i)
    source = np.array(source)
    quality = rng.random(len(texts))
    emb = rng.normal(size=(40, 16))[source] + 1e-4 * rng.normal(size=(len(texts), 16))
    result = dedup(texts, emb, quality, minhash_threshold=0.8, semantic_threshold=0.999, seed=seed)
    assert sorted(source[result.keep].tolist()) == list(range(40))
    for i in result.keep:
        assert quality[i] == quality[source == source[i]].max()
    check_consistent(result, len(texts))


def test_no_stage_keeps_everything_and_bad_arguments():
    texts = unique_texts(5)
    result = dedup(texts, exact=False)
    np.testing.assert_array_equal(result.keep, np.arange(5))
    with pytest.raises(UsageError):
        dedup(texts, minhash_threshold=1.5)
    with pytest.raises(UsageError):
        dedup(texts, quality=np.ones(4))


def test_stage_and_kept_row_of_every_removed_item_through_a_chain():
    texts = ["a b c", "A  b c", "d e f", "g h i"]
    X = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    result = dedup(texts, X, quality=np.array([0.5, 0.1, 0.9, 0.0]), semantic_threshold=0.99)
    # exact: 1 duplicates 0; semantic: 0 duplicates 2 (better quality), so 1 ends up standing for 2
    np.testing.assert_array_equal(result.keep, [2, 3])
    assert result.stage_of.tolist() == ["semantic", "exact", "", ""]
    np.testing.assert_array_equal(result.cluster_of, [2, 2, 2, 3])
    np.testing.assert_array_equal(result.dropped, [0, 1])
    assert result.removed == {"exact": 1, "semantic": 1}


def test_groups_dedup_within_each_group_only():
    texts = ["same answer", "same answer", "same answer", "other", "Same  answer"]
    groups = np.array(["q1", "q1", "q2", "q2", "q2"])
    quality = np.array([0.0, 1.0, 0.0, 0.0, 2.0])
    assert dedup(texts, quality=quality).keep.tolist() == [3, 4]  # without groups: one "same answer" overall
    result = dedup(texts, quality=quality, groups=groups)
    np.testing.assert_array_equal(result.keep, [1, 3, 4])
    np.testing.assert_array_equal(result.cluster_of, [1, 1, 4, 3, 4])
    assert result.stage_of.tolist() == ["exact", "", "exact", "", ""] and result.removed == {"exact": 2}
    check_consistent(result, 5)
    with pytest.raises(UsageError, match="groups"):
        dedup(texts, groups=groups[:3])


@pytest.mark.parametrize("seed", range(2))
def test_groups_equal_deduplicating_each_group_on_its_own(seed):
    rng = np.random.default_rng(seed)
    pool = unique_texts(6, length=10, seed=seed)
    texts = [pool[i] for i in rng.integers(0, 6, size=60)]
    groups = rng.integers(0, 4, size=60)
    quality = rng.random(60)
    result = dedup(texts, quality=quality, groups=groups, minhash_threshold=0.8)
    for g in range(4):
        idx = np.flatnonzero(groups == g)
        alone = dedup([texts[i] for i in idx], quality=quality[idx], minhash_threshold=0.8)
        np.testing.assert_array_equal(np.intersect1d(result.keep, idx), idx[alone.keep])
        np.testing.assert_array_equal(result.cluster_of[idx], idx[alone.cluster_of])
        # within a group each distinct text is kept once, its best copy
        assert len(np.unique([texts[i] for i in idx])) == len(alone.keep)


def _datasketch_candidate_pairs(texts, threshold, num_perm, seed):
    """The reference: datasketch's own MinHashes in its MinHashLSH index, queried item by item."""
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    from quadiv.select._dedup import _shingles

    sketches = [LeanMinHash(m) for m in MinHash.bulk((_shingles(t) for t in texts), num_perm=num_perm, seed=seed)]
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    with lsh.insertion_session() as session:
        for pos, sketch in enumerate(sketches):
            session.insert(pos, sketch, check_duplication=False)
    return {(pos, other) for pos, sketch in enumerate(sketches) for other in lsh.query(sketch) if other > pos}


def test_band_pairs_are_datasketch_lsh_candidates_on_real_answers():
    """The LSH candidates from grouping each band's bytes equal datasketch's index queries, on AlpacaEval
    answers with near-duplicates made by changing one word of every fifth answer."""
    import json
    from pathlib import Path

    from datasketch import MinHashLSH

    from quadiv.select._dedup import band_pairs, minhash_signatures

    path = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "alpaca_eval_outputs.jsonl"
    rows = [json.loads(line)["output"] for line in path.read_text().splitlines()[:600]]
    texts = rows + [t.rsplit(" ", 1)[0] + " changed" for t in rows[::5]]
    signatures = minhash_signatures(texts, 128, seed=1)
    for threshold in (0.5, 0.8):
        lsh = MinHashLSH(threshold=threshold, num_perm=128)
        ours = set()
        for i in range(lsh.b):
            a, b = band_pairs(signatures[:, i * lsh.r:(i + 1) * lsh.r])
            assert np.all(a < b)
            ours |= set(zip(a.tolist(), b.tolist(), strict=True))
        reference = _datasketch_candidate_pairs(texts, threshold, 128, 1)
        assert len(reference) >= 100 and ours == reference


def test_components_equal_a_union_find_over_the_same_edges():
    """Each duplicate group keeps its best item, whatever order the edges come in: a plain union-find
    that always keeps the better root gives the same representatives."""
    from quadiv.select._dedup import _merge, _roots

    rng = np.random.default_rng(4)
    n = 300
    key = rng.permutation(n)
    a, b = rng.integers(0, n, 250), rng.integers(0, n, 250)
    parent = np.arange(n)
    _merge(parent, key, np.arange(n), a, b)
    root = list(range(n))

    def find(i):
        while root[i] != i:
            i = root[i]
        return i

    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        rx, ry = find(x), find(y)
        if rx != ry:
            keep, drop = (rx, ry) if key[rx] < key[ry] else (ry, rx)
            root[drop] = keep
    assert _roots(parent).tolist() == [find(i) for i in range(n)]
