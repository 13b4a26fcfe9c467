"""Structural diversity: k-means cluster entropy, and per-input vs across-input diversity (Kirk et al.)."""
from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence

import numpy as np

from quadiv._deps import require
from quadiv.errors import UsageError
from quadiv.geometry import kmeans, kmeans_pp
from quadiv.measure._arrays import finite_matrix

Metric = Callable[[np.ndarray], float]

_MAX_DEFAULT_K = 100
_SEED_ROWS_PER_CENTROID = 256


def default_k(n: int) -> int:
    """Default number of clusters for `cluster_entropy`: min(max(2, round(sqrt(n / 2))), 100), at most n.

    sqrt(n / 2) is the classic rule of thumb for the number of clusters (Mardia, Kent, Bibby 1979,
    "Multivariate Analysis", p. 365); the cap keeps k-means cheap and the entropy comparable across pools.
    """
    return min(max(2, round(math.sqrt(n / 2))), _MAX_DEFAULT_K, n)


def cluster_entropy(X: np.ndarray, k: int | None = None, *, seed: int = 0, niter: int = 20) -> dict:
    """Shannon entropy of the k-means cluster-size distribution of the rows of X.

    With n_c the number of rows assigned to cluster c and p_c = n_c / n:

        H = -sum_c p_c log p_c   (nats, 0 log 0 = 0),   H_norm = H / log k,   0 <= H <= log k.

    Clustering-based diversity of a data set (how evenly the data spread over semantic clusters);
    clustering-based measures are among the data-diversity measures analysed by Yang et al. (2025),
    "Measuring Data Diversity for Instruction Tuning: A Systematic Analysis and A Reliable Metric"
    (arXiv:2502.17184).

    k-means is faiss `Kmeans` (`niter` Lloyd iterations on at most 256 sampled rows per centroid) from
    k-means++ seeds (Arthur and Vassilvitskii 2007) drawn with `seed`; it is spherical (centroids
    re-normalised, cosine geometry) when every row has unit L2 norm within 1e-3, as quadiv embeddings
    do. Every row is then assigned to its nearest centroid. Same X, k, seed and niter give the same
    result. Default k: `default_k(n)`.
    Returns {"cluster_entropy": H, "cluster_entropy_norm": H_norm, "k": k}.
    """
    data = finite_matrix(X, "X", np.float32)
    n = data.shape[0]
    if n < 2:
        raise UsageError(f"cluster_entropy needs at least 2 rows; got {n}")
    k = default_k(n) if k is None else k
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise UsageError(f"k must be an integer in [2, n={n}]; got {k!r}")
    labels = kmeans_labels(data, int(k), seed=seed, niter=niter)
    p = np.bincount(labels, minlength=k) / n
    p = p[p > 0]
    entropy = float(-(p * np.log(p)).sum())
    return {"cluster_entropy": entropy, "cluster_entropy_norm": entropy / math.log(k), "k": int(k)}


def per_input_diversity(input_ids: Sequence[Hashable] | np.ndarray, metric: Metric, *,
                        min_outputs: int = 2) -> float:
    """Mean over inputs of the diversity of each input's own set of outputs.

    Row i of the data is one output generated for input `input_ids[i]`. With O_x the row indices of
    input x (in data order) and X' the inputs with |O_x| >= min_outputs:

        per_input = 1/|X'| sum_{x in X'} metric(O_x)

    Kirk et al. (2024), "Understanding the Effects of RLHF on LLM Generalisation and Diversity", ICLR,
    output-diversity evaluation: per-input diversity is the diversity of a set of outputs sampled for
    one input, averaged over inputs; it measures how much the model varies its answer to one prompt.
    `metric` maps an integer index array to a float (an embedding metric such as Vendi on X[idx], or a
    lexical one such as distinct-n on the texts), so any diversity metric plugs in.
    """
    groups = _groups(input_ids)
    _check_min_outputs(min_outputs)
    values = [_call(metric, idx, f"input {key!r}") for key, idx in groups.items() if len(idx) >= min_outputs]
    if not values:
        raise UsageError(f"no input has at least min_outputs={min_outputs} outputs; "
                         "give several outputs per input or lower min_outputs")
    return float(np.mean(values))


def across_input_diversity(input_ids: Sequence[Hashable] | np.ndarray, metric: Metric, *,
                           seed: int | None = 0, min_outputs: int = 2) -> float:
    """Mean over sample positions of the diversity of the set made of one output per input.

    Number the outputs of each input 0, 1, ... (a random order drawn from `seed`; data order when seed
    is None). With S_s the row indices of the s-th output of every input that has one, m the largest
    number of outputs of an input, and P the positions with |S_s| >= min_outputs:

        across_input = 1/|P| sum_{s in P} metric(S_s)

    Kirk et al. (2024), "Understanding the Effects of RLHF on LLM Generalisation and Diversity", ICLR,
    output-diversity evaluation: across-input diversity is the diversity of a set holding one output
    for each of many inputs, averaged over the sampled outputs; it measures how varied the model's
    outputs are across prompts. With one output per input it is metric(all rows). The order within an
    input is shuffled by default so that a data layout (e.g. rows sorted by generator) does not decide
    which outputs meet in a set.
    """
    groups = _groups(input_ids)
    _check_min_outputs(min_outputs)
    rng = None if seed is None else np.random.default_rng(seed)
    ordered = [idx if rng is None else rng.permutation(idx) for idx in groups.values()]
    longest = max(len(idx) for idx in ordered)
    values = []
    for s in range(longest):
        members = np.array([idx[s] for idx in ordered if len(idx) > s], dtype=np.int64)
        if len(members) >= min_outputs:
            values.append(_call(metric, members, f"sample position {s}"))
    if not values:
        raise UsageError(f"fewer than min_outputs={min_outputs} inputs; across-input diversity needs "
                         "outputs for several inputs")
    return float(np.mean(values))


def kmeans_labels(data: np.ndarray, k: int, *, seed: int, niter: int) -> np.ndarray:
    """Nearest-centroid label of each row after faiss k-means from k-means++ seeds."""
    require("faiss", None, "cluster_entropy k-means", package="faiss-cpu")
    if isinstance(niter, bool) or not isinstance(niter, (int, np.integer)) or niter < 1:
        raise UsageError(f"niter must be a positive integer; got {niter!r}")
    rng = np.random.default_rng(seed)
    n, limit = data.shape[0], _SEED_ROWS_PER_CENTROID * k
    # its own k-means++ sample (rows in data order, all of them when they fit, float64) keeps every
    # entropy measured before kmeans moved to geometry
    sample = data if n <= limit else data[np.sort(rng.choice(n, limit, replace=False))]
    labels, _ = kmeans(data, k, seed, int(niter), init=kmeans_pp(sample.astype(np.float64), k, rng))
    return labels


def _groups(input_ids: Sequence[Hashable] | np.ndarray) -> dict[Hashable, np.ndarray]:
    """Row indices of each input id, in order of first appearance; missing ids raise UsageError."""
    ids = np.asarray(input_ids, dtype=object) if not isinstance(input_ids, np.ndarray) else input_ids
    if ids.ndim != 1 or ids.shape[0] == 0:
        raise UsageError(f"input_ids must be a non-empty 1-D sequence; got shape {ids.shape}")
    groups: dict[Hashable, list[int]] = {}
    for i, key in enumerate(ids.tolist()):
        if key is None or (isinstance(key, float) and math.isnan(key)):
            raise UsageError(f"input_ids[{i}] is {key}; every output needs the id of its input")
        groups.setdefault(key, []).append(i)
    return {key: np.asarray(idx, dtype=np.int64) for key, idx in groups.items()}


def _check_min_outputs(min_outputs: int) -> None:
    if isinstance(min_outputs, bool) or not isinstance(min_outputs, (int, np.integer)) or min_outputs < 1:
        raise UsageError(f"min_outputs must be a positive integer; got {min_outputs!r}")


def _call(metric: Metric, idx: np.ndarray, where: str) -> float:
    """metric(idx) as a float; a non-finite value raises UsageError naming the set."""
    value = float(metric(idx))
    if not math.isfinite(value):
        raise UsageError(f"metric returned {value} for {where} (rows {idx.tolist()[:5]}...); "
                         "the metric must return a finite float for every set")
    return value
