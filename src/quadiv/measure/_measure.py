"""`measure`: the whole metric report of a set of items, overall and per group, from arrays."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from quadiv.errors import UsageError
from quadiv.geometry import has_zero_row, unit_rows
from quadiv.measure import _groups, _lexical, _metrics, _novelty, _reference, _structure, _topk, _vendi


def measure(
    X: np.ndarray | None = None,
    texts: Sequence[str] | None = None,
    quality: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    *,
    metrics: Sequence[str] | None = None,
    input_ids: np.ndarray | None = None,
    reference: np.ndarray | None = None,
    reference_texts: Sequence[str] | None = None,
    taxonomy: Sequence | None = None,
    k: int = 5,
    top_logprobs: Sequence | None = None,
    top_k: int = 10,
    seed: int = 0,
    progress: Callable[..., None] | None = None,
    engine: Any = None,
) -> dict:
    """Metrics of the whole set and of each group: ``{"n", "metrics": {...}, "groups": {g: {...}}}``.

    With ``groups`` and ``quality``, the overall metrics also hold the spread of quality across
    groups (worst group, 20th percentile, Gini, harmony). With ``input_ids`` (several outputs per
    input) they hold per-input and across-input diversity (Kirk et al. 2023), and so does each group,
    computed within the group (e.g. per model: how much each model varies its answers to one
    prompt); a group where one is undefined (no input with two outputs, or only one input) gets NaN. With ``reference``
    embeddings they hold precision, recall, density and coverage (Naeem et al. 2020) and novelty
    (:func:`quadiv.measure.novelty`, and ``novelty_utility`` with quality); with ``reference_texts`` too,
    ``novelty_ngram`` (:func:`quadiv.measure.ngram_novelty`, bigrams, pooled over the items).
    ``taxonomy`` lists every domain the ``groups`` could name, for ``domain_coverage`` and
    ``domain_evenness`` (default: the groups seen; without groups the domains are k-means clusters).
    With ``top_logprobs`` (per item, its generated tokens' {token: log p} of at least ``top_k``
    alternatives) they and each group hold top-k mass and entropies (:func:`quadiv.measure.topk_indicators`).
    ``engine`` (:mod:`quadiv.engine`, e.g. a RayEngine) computes the Vendi spectra and mean pairwise
    distances, with the same numbers as this process; every other metric runs here.
    ``progress``, if given, is first called as ``progress(0, total=steps)`` and then with 1 per metric
    computed (a metric of the whole set or of one group is one step).

    Embeddings are read as the selectors read them (:func:`quadiv.geometry.unit_rows`): rows
    L2-normalised, every zero row (a text the embedder could not embed) one shared point, at cosine 0
    from every other item; so two empty answers are identical, not maximally different.
    """
    n = _count(X, texts, quality)
    if X is not None:
        empty = has_zero_row(X) or (reference is not None and has_zero_row(reference))
        X = unit_rows(X, empty_axis=empty)
        reference = None if reference is None else unit_rows(reference, empty_axis=empty)
    names = list(metrics) if metrics is not None else _metrics.default_metrics(
        embeddings=X is not None, texts=texts is not None, quality=quality is not None)
    whole = _metrics.Sample(X, texts, quality, seed=seed, groups=None if groups is None else np.asarray(groups),
                            taxonomy=taxonomy, engine=engine)
    labels = sorted(set(np.asarray(groups).tolist()), key=str) if groups is not None else []
    if progress is not None:
        progress(0, total=len(names) * (1 + len(labels)))
    overall = _metrics.compute(names, whole, progress=progress)
    result = {"n": n, "metrics": overall, "groups": {}}
    if groups is not None:
        groups = np.asarray(groups)
        for label in labels:
            idx = np.flatnonzero(groups == label)
            part = result["groups"][str(label)] = {
                "n": int(idx.size), **_metrics.compute(names, whole.subset(idx), progress=progress)}
            if input_ids is not None:
                part.update(_input_diversity(np.asarray(input_ids)[idx], None if X is None else X[idx],
                                             None if texts is None else [texts[i] for i in idx], strict=False))
            if top_logprobs is not None:
                part.update(_topk.topk_indicators([top_logprobs[i] for i in idx], top_k))
        if quality is not None:
            spread, result["worst_group"] = group_spread(quality, groups)
            overall.update(spread)
    if input_ids is not None:
        overall.update(_input_diversity(np.asarray(input_ids), X, texts))
    if reference is not None and X is not None:
        overall.update(_reference.prdc(reference, X, k=k))
        per_item = _novelty.novelty(X, reference)
        overall["novelty"] = float(per_item.mean())
        if quality is not None:
            overall["novelty_utility"] = _novelty.novelty_utility(per_item, quality)
    if reference_texts is not None and texts is not None:
        overall["novelty_ngram"] = _novelty.pooled_ngram_novelty(texts, reference_texts)
    if top_logprobs is not None:
        if len(top_logprobs) != n:
            raise UsageError(f"top_logprobs must have one entry per item ({n}), got {len(top_logprobs)}")
        overall.update(_topk.topk_indicators(top_logprobs, top_k))
    missing = [name for name in names if name not in overall]  # a derived metric asked for without its input
    if missing:
        raise UsageError(f"metric '{missing[0]}' needs {_metrics.DERIVED_METRICS[missing[0]]}, "
                         "which this run does not have")
    return result


def _count(*arrays) -> int:
    sizes = {len(a) for a in arrays if a is not None}
    if len(sizes) != 1:
        raise UsageError(f"embeddings, texts and quality must describe the same items; got sizes {sorted(sizes)}")
    return sizes.pop()


def group_spread(quality: np.ndarray, groups: np.ndarray) -> tuple[dict[str, float], str]:
    """Worst-group, 20th-percentile, Gini and harmony of mean quality across groups.

    Harmony is defined for two or more groups with non-negative mean quality (NaN otherwise).
    Also returns the name of the worst group.
    """
    stats = _groups.group_quality(quality, groups)
    means = np.array(list(stats["group_means"].values()))
    usable = means.size >= 2 and means.min() >= 0 and means.sum() > 0
    return {"worst_group_quality": stats["worst_group_mean"], "group_p20_quality": stats["group_p20"],
            "group_gini_quality": stats["group_gini"],
            "harmony_quality": _groups.harmony(means) if usable else float("nan")}, stats["worst_group"]


def _input_diversity(input_ids: np.ndarray, X: np.ndarray | None, texts: Sequence[str] | None,
                     strict: bool = True) -> dict[str, float]:
    """Per-input and across-input diversity (Kirk et al. 2023) by Vendi and by distinct-2.

    ``strict=False``: a value that is undefined for these rows (per-input: no input with two outputs;
    across-input: a single input) is NaN instead of a UsageError.
    """
    counts = np.unique(np.asarray(input_ids, dtype=str), return_counts=True)[1]
    defined = {"per_input": strict or counts.max() >= 2, "across_input": strict or counts.size >= 2}
    diversity = {"per_input": _structure.per_input_diversity, "across_input": _structure.across_input_diversity}
    metrics = {}
    if X is not None:
        metrics["vendi"] = lambda idx: _vendi.vendi(np.asarray(X[idx]))
    if texts is not None:
        metrics["distinct_2"] = lambda idx: _lexical.distinct_n([texts[i] for i in idx], 2)
    return {f"{kind}_{name}": diversity[kind](input_ids, metric) if defined[kind] else float("nan")
            for name, metric in metrics.items() for kind in ("per_input", "across_input")}
