"""``MultiRoleReward``: MultiRole-R1's per-response composite of linguistic diversity signals.

Wang et al. 2025, "Diversity-Enhanced Reasoning for Subjective Questions" (arXiv 2507.20187, sec. 3.3):
R = delta R_acc + (1 - delta) R_div with R_div = sum_k w_k D_k over eight signals of one response:
vocabulary richness, token entropy, sentence-length variation, sentence-structure variety,
adjacent-sentence dissimilarity, Yule's K, distinct-n and function-word usage. The paper's exact
definitions, weights w_k and delta were not available (GENERATION.md sec. 8.2): each signal here is
our documented reading, mapped to [0, 1] (higher = more diverse), with equal weights and delta = 0.5 by
default; pass ``weights`` and ``delta`` to use others. Per response: no group, no model call.
"""
from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from typing import Any

import numpy as np

from quadiv.errors import UsageError
from quadiv.rewards._base import GroupReward, as_quality
from quadiv.rewards._group import Batch

_WORD = re.compile(r"[a-z0-9']+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_FUNCTION_WORD_LIST = (
    "a an the and or but if then so because as of in on at to for from by with about into over after before "
    "under between through during without within is are was were be been being am do does did have has had "
    "i you he she it we they me him her us them my your his its our their this that these those which who "
    "whom whose what when where why how not no all any each some such than too very can will would should "
    "could may might must shall")
FUNCTION_WORDS = frozenset(_FUNCTION_WORD_LIST.split())


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _sentences(text: str) -> list[list[str]]:
    return [w for w in (_words(s) for s in _SENTENCE.split(text)) if w]


def vocabulary_richness(words: list[str]) -> float:
    """Type-token ratio |V| / N."""
    return len(set(words)) / len(words) if words else 0.0


def token_entropy(words: list[str]) -> float:
    """Shannon entropy of the word distribution over its maximum, log N."""
    if len(words) < 2:
        return 0.0
    p = np.array(list(Counter(words).values()), dtype=float) / len(words)
    return float(-(p * np.log(p)).sum() / math.log(len(words)))


def sentence_length_variation(sentences: list[list[str]]) -> float:
    """Coefficient of variation of sentence lengths, capped at 1."""
    lengths = np.array([len(s) for s in sentences], dtype=float)
    return float(min(1.0, lengths.std() / lengths.mean())) if len(lengths) > 1 else 0.0


def structure_variety(sentences: list[list[str]]) -> float:
    """Distinct sentence openings (first two words) over the number of sentences."""
    return len({tuple(s[:2]) for s in sentences}) / len(sentences) if sentences else 0.0


def adjacent_dissimilarity(sentences: list[list[str]]) -> float:
    """Mean 1 - Jaccard similarity of the word sets of adjacent sentences."""
    if len(sentences) < 2:
        return 0.0
    pairs = [(set(a), set(b)) for a, b in itertools.pairwise(sentences)]
    return float(np.mean([1 - len(a & b) / len(a | b) for a, b in pairs]))


def yule_richness(words: list[str]) -> float:
    """Yule's K = 10^4 (sum_m m^2 V_m - N) / N^2 (lower: richer), mapped to 1 / (1 + K / 100)."""
    if not words:
        return 0.0
    n = len(words)
    spectrum = Counter(Counter(words).values())
    k = 1e4 * (sum(m * m * v for m, v in spectrum.items()) - n) / (n * n)
    return 1.0 / (1.0 + k / 100.0)


def distinct_bigrams(words: list[str]) -> float:
    """Distinct bigrams over bigrams within the response."""
    grams = list(itertools.pairwise(words))
    return len(set(grams)) / len(grams) if grams else 0.0


def function_word_variety(words: list[str]) -> float:
    """Distinct function words over function-word tokens."""
    used = [w for w in words if w in FUNCTION_WORDS]
    return len(set(used)) / len(used) if used else 0.0


SIGNALS = {
    "vocabulary_richness": lambda w, s: vocabulary_richness(w),
    "token_entropy": lambda w, s: token_entropy(w),
    "sentence_length_variation": lambda w, s: sentence_length_variation(s),
    "structure_variety": lambda w, s: structure_variety(s),
    "adjacent_dissimilarity": lambda w, s: adjacent_dissimilarity(s),
    "yule_k": lambda w, s: yule_richness(w),
    "distinct_2": lambda w, s: distinct_bigrams(w),
    "function_words": lambda w, s: function_word_variety(w),
}


def linguistic_diversity(text: str, weights: dict[str, float] | None = None) -> float:
    """R_div = sum_k w_k D_k(text) with the weights normalised to sum 1 (equal by default)."""
    weights = weights or dict.fromkeys(SIGNALS, 1.0)
    unknown = sorted(set(weights) - set(SIGNALS))
    if unknown:
        raise UsageError(f"unknown MultiRole signals {unknown}; they are: {', '.join(SIGNALS)}")
    total = sum(weights.values())
    if total <= 0:
        raise UsageError("the MultiRole `weights` must sum to more than 0")
    words, sentences = _words(text), _sentences(text)
    return sum(w * SIGNALS[name](words, sentences) for name, w in weights.items()) / total


class MultiRoleReward(GroupReward):
    """delta R_acc + (1 - delta) R_div per completion, R_div MultiRole-R1's linguistic composite (TRL reward function).

    Parameters:
        weights: signal name -> weight (vocabulary_richness, token_entropy, sentence_length_variation,
            structure_variety, adjacent_dissimilarity, yule_k, distinct_2, function_words); default equal.
        accuracy: R_acc: a quadiv scorer or its name, or a TRL reward function; None: R_div alone.
        delta: the weight of R_acc (unverified; 0.5 by default).
    """

    name = "multirole_diversity"

    def __init__(self, weights: dict[str, float] | None = None, accuracy: Any = None, delta: float = 0.5,
                 embedder: Any = "static", gather: Any = None, log_metrics: bool = True):
        super().__init__(embedder, gather, log_metrics)
        if not 0 <= delta <= 1:
            raise UsageError(f"`delta` must be in [0, 1]; got {delta}")
        linguistic_diversity("check the weights", weights)
        self.weights, self.accuracy, self.delta = weights, as_quality(accuracy), delta

    def rewards(self, batch: Batch, kwargs: dict[str, Any]) -> np.ndarray:
        div = np.array([linguistic_diversity(t, self.weights) for t in batch.texts])
        if self.accuracy is None:
            return div
        return self.delta * self.accuracy(batch, kwargs) + (1 - self.delta) * div
