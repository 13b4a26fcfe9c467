"""Novelty against a reference (training or prior) set, per item, and novelty x utility.

After Schapiro et al. (2025), "Combinatorial Creativity" (arXiv 2509.21043), which scores outputs
by their novelty and their utility and finds a persistent novelty-utility trade-off. How that paper
computes novelty and utility, and whether it combines them by product, threshold or Pareto front, is
unverified (abstract only; METHODS.md section 7): these are quadiv's forms. Report both axes and
their Pareto front (:func:`quadiv.front.pareto_mask`), not only the product.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quadiv.errors import UsageError
from quadiv.geometry import top_inner_products, unit_rows
from quadiv.measure import _lexical
from quadiv.measure._arrays import finite_matrix


def novelty(X: np.ndarray, reference_X: np.ndarray) -> np.ndarray:
    """Per-item novelty: one minus the largest cosine similarity to any reference item.

        novelty_i = max(0, 1 - max_r cos(x_i, r))   in [0, 2]

    0 for an item that is in the reference set, 1 for one orthogonal to all of it. Rows are
    L2-normalised first (:func:`quadiv.geometry.unit_rows`); the clip at 0 only absorbs rounding.
    """
    items = finite_matrix(X, "X", np.float32)
    reference = finite_matrix(reference_X, "reference_X", np.float32)
    if items.shape[1] != reference.shape[1]:
        raise UsageError(f"X and `reference` must have the same dimension; got {items.shape[1]} and "
                         f"{reference.shape[1]}")
    if reference.shape[0] == 0:
        raise UsageError("the `reference` set is empty")
    sims, _ = top_inner_products(np.ascontiguousarray(unit_rows(items)), np.ascontiguousarray(unit_rows(reference)), 1)
    return np.maximum(0.0, 1.0 - sims[:, 0].astype(np.float64))


def ngram_novelty(texts: Sequence[str], reference_texts: Sequence[str], n: int = 2) -> np.ndarray:
    """Per-item share of a text's n-grams (default bigrams) that occur in no reference text.

        novelty_i = |{g in G_n(t_i) : g not in G_n(R)}| / |G_n(t_i)|

    with G_n(t) the n-gram occurrences of text t (the default tokeniser, :func:`tokenize`) and G_n(R)
    the set of n-grams of all reference texts. NaN for a text shorter than n tokens.
    """
    unseen, total = _unseen_grams(texts, reference_texts, n)
    return np.where(total > 0, unseen / np.maximum(total, 1), np.nan)


def pooled_ngram_novelty(texts: Sequence[str], reference_texts: Sequence[str], n: int = 2) -> float:
    """Share of all the n-gram occurrences of ``texts`` that occur in no reference text (NaN without any)."""
    unseen, total = _unseen_grams(texts, reference_texts, n)
    return float(unseen.sum() / total.sum()) if total.sum() else float("nan")


def novelty_utility(novelty_values: np.ndarray, quality: np.ndarray) -> float:
    """Mean over items of novelty x utility (quality): high only where an item is both new and good.

        novelty_utility = (1/n) sum_i novelty_i q_i

    With both in [0, 1] each product is at most min(novelty_i, q_i).
    """
    nov, q = np.asarray(novelty_values, dtype=np.float64), np.asarray(quality, dtype=np.float64)
    if nov.shape != q.shape:
        raise UsageError(f"novelty and quality must describe the same items; got {nov.shape} and {q.shape}")
    return float(np.mean(nov * q))


def _unseen_grams(texts: Sequence[str], reference_texts: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per text: how many of its n-gram occurrences no reference text has, and how many it has."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise UsageError(f"n-gram order must be a positive integer, got {n!r}")
    seen = {gram for text in reference_texts for gram in _grams(text, n)}
    per_text = [_grams(text, n) for text in texts]
    unseen = np.array([sum(gram not in seen for gram in grams) for grams in per_text], dtype=np.float64)
    return unseen, np.array([len(grams) for grams in per_text], dtype=np.float64)


def _grams(text: str, n: int) -> list[tuple[str, ...]]:
    tokens = _lexical.tokenize(text)
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
