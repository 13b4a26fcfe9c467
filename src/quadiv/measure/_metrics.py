"""The metric registry: the named metrics that `measure`, `select` and `front` all report, from arrays.

A metric is a stable snake_case name mapped to a function of a :class:`Sample` (embeddings, texts,
quality and group labels of one set of items). Vendi of every order shares one eigen-decomposition per sample.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from quadiv._registry import Registry
from quadiv.errors import UnknownNameError, UsageError
from quadiv.measure import _domains, _groups, _lexical, _structure
from quadiv.measure import _vendi as _vendi_mod


@dataclass
class Sample:
    """One set of items to measure; any part may be missing.

    ``groups`` label each item's domain (subset, source); ``taxonomy`` lists every domain there is
    (default: the group labels seen). A subset keeps its parent's taxonomy and domains, so a selection's
    domain coverage is measured against the pool's domains.
    """

    X: np.ndarray | None = None
    texts: Sequence[str] | None = None
    quality: np.ndarray | None = None
    seed: int = 0
    groups: np.ndarray | None = None
    taxonomy: Sequence | None = None
    engine: Any = None

    @cached_property
    def spectrum(self) -> np.ndarray:
        """Eigenvalues of K / n, on the engine when one is given (quadiv.engine: the same numbers)."""
        return (_vendi_mod if self.engine is None else self.engine).vendi_spectrum(self.X)

    @cached_property
    def pairwise(self) -> float:
        """Mean cosine distance over pairs of the (unit or zero) rows, on the engine when one is given."""
        if self.engine is not None:
            return self.engine.mean_pairwise_distance(self.X)
        return _vendi_mod.mean_pairwise_distance(self.X, normalize=False)

    @cached_property
    def tokens(self) -> list[list[str]]:
        """Texts split once by the default tokeniser, shared by the n-gram metrics."""
        return [_lexical.tokenize(text) for text in self.texts]

    @cached_property
    def bleu_tokens(self) -> list[list[str]]:
        """Texts split once by sacreBLEU's 13a tokeniser, for self-BLEU."""
        tokenize = _lexical.bleu_tokenizer()
        return [tokenize(text) for text in self.texts]

    def prepare(self, names: Sequence[str]) -> Sample:
        """Tokenise the texts now for the named metrics that read tokens, so subsets reuse them."""
        has = {"tokens": self.texts is not None, "bleu_tokens": self.texts is not None,
               "domains": self.groups is not None or self.X is not None}
        for kind in {get_metric(name).shared for name in names} - {None}:
            if has[kind]:
                getattr(self, kind)
        return self

    def subset(self, idx: np.ndarray) -> Sample:
        """The items ``idx`` as a new Sample, reusing the tokens and domains already computed here."""
        taxonomy = self.taxonomy if self.taxonomy is not None or self.groups is None else self.seen_groups
        part = Sample(None if self.X is None else np.asarray(self.X[idx]),
                      None if self.texts is None else [self.texts[i] for i in idx],
                      None if self.quality is None else self.quality[idx], seed=self.seed,
                      groups=None if self.groups is None else np.asarray(self.groups)[idx], taxonomy=taxonomy,
                      engine=self.engine)
        for name in ("tokens", "bleu_tokens"):
            if name in self.__dict__:
                part.__dict__[name] = [self.__dict__[name][i] for i in idx]
        if "domains" in self.__dict__:
            codes, size = self.domains
            part.__dict__["domains"] = (codes[idx], size)
        return part

    @cached_property
    def seen_groups(self) -> list:
        """The distinct group labels, sorted as strings: the taxonomy when none is given."""
        return sorted(set(np.asarray(self.groups).tolist()), key=str)

    @cached_property
    def domains(self) -> tuple[np.ndarray, int]:
        """Each item's domain as an index, and the number of domains: the groups over the taxonomy, else
        k-means clusters of X (:func:`quadiv.measure.kmeans_domains`, default k)."""
        if self.groups is not None:
            return _domains.domain_codes(self.groups, self.taxonomy)
        return _domains.kmeans_domains(self.X, seed=self.seed)

    @cached_property
    def clusters(self) -> dict:
        return _structure.cluster_entropy(self.X, seed=self.seed)

    @cached_property
    def quality_stats(self) -> dict:
        return _groups.quality_stats(self.quality)


@dataclass(frozen=True)
class Metric:
    """A named metric: what it needs of a :class:`Sample`, what it means, and its function.

    ``needs`` is ``X`` (embeddings), ``texts``, ``quality``, ``Xq`` (embeddings and quality), ``domains``
    (group labels or embeddings to cluster) or ``derived`` (computed by :func:`quadiv.measure.measure` from
    an extra input, named in ``requirement``); ``shared`` names the Sample attribute it reads that is
    computed once before subsets ('tokens', 'bleu_tokens' or 'domains').
    """

    needs: str
    description: str
    compute: Callable[[Sample], float] = field(repr=False)
    shared: str | None = None
    requirement: str = ""

    def __call__(self, sample: Sample) -> float:
        return self.compute(sample)

    @property
    def input_text(self) -> str:
        """What the metric needs, in words: 'texts (`field`)', 'a reference set (`reference`)'."""
        return self.requirement or NEEDS[self.needs]


NEEDS = {"X": "embeddings", "texts": "texts (`field`)", "quality": "quality scores (`quality_field`)",
         "Xq": "embeddings and quality scores (`quality_field`)",
         "domains": "group labels (`group_field`) or embeddings"}
METRICS: Registry[Metric] = Registry("metric")


def _vendi(q: float) -> Metric:
    return Metric("X", f"Vendi score of order {q:g}: exp of the Renyi entropy of the cosine kernel's eigenvalues",
                  lambda s: _vendi_mod.vendi_from_spectrum(s.spectrum, q))


def _distinct(n: int) -> Metric:
    return Metric("texts", f"distinct-{n}: distinct {n}-grams / all {n}-grams", lambda s: _lexical.distinct_n(s.tokens, n),
                  shared="tokens")


def _ead(n: int) -> Metric:
    return Metric("texts", f"expectation-adjusted distinct {n}-grams (EAD)", lambda s: _lexical.ead(s.tokens, n),
                  shared="tokens")


def _quality(stat: str) -> Metric:
    return Metric("quality", f"quality {stat.removeprefix('quality_')}", lambda s: s.quality_stats[stat])


def _derived(requirement: str, description: str) -> Metric:
    return Metric("derived", description, lambda s: math.nan, requirement=requirement)


def _vendi_family(name: str) -> Metric | None:
    """vendi_q<order> for any order > 0 or inf: 'vendi_q0.7', 'vendi_q3', 'vendi_qinf'."""
    order = name.removeprefix("vendi_q")
    if order == "inf":
        return _vendi(math.inf)
    try:
        return _vendi(float(order)) if float(order) > 0 else None
    except ValueError:
        return None


# Families: a name a family recognises is built on demand (vendi_q0.7, distinct_3, ead_2).
FAMILIES: dict[str, Callable[[str], Metric | None]] = {
    "vendi_q<order>": lambda name: _vendi_family(name) if name.startswith("vendi_q") else None,
    "distinct_<n>": lambda name: _distinct(int(m[1])) if (m := re.fullmatch(r"distinct_([1-4])", name)) else None,
    "ead_<n>": lambda name: _ead(int(m[1])) if (m := re.fullmatch(r"ead_([1-4])", name)) else None,
}
_GROUP_QUALITY = "groups and quality scores (`group_field` and `quality_field`)"
_INPUTS = "input ids (`input_field`)"
_TOPK = "per-token top log-probs (`top_logprobs_field`)"
for _name, _metric in {
    "vendi": _vendi(1.0), "vendi_q0.5": _vendi(0.5), "vendi_q2": _vendi(2.0), "vendi_qinf": _vendi(math.inf),
    "qvendi": Metric("Xq", "quality-weighted Vendi: mean quality x Vendi (order 1)",
                     lambda s: float(np.mean(s.quality)) * _vendi_mod.vendi_from_spectrum(s.spectrum, 1.0)),
    "mean_pairwise_distance": Metric("X", "mean cosine distance over all pairs",
                                     lambda s: s.pairwise),
    "cluster_entropy": Metric("X", "entropy of k-means cluster sizes", lambda s: s.clusters["cluster_entropy"]),
    "cluster_entropy_norm": Metric("X", "cluster entropy / log(k)", lambda s: s.clusters["cluster_entropy_norm"]),
    **{f"distinct_{n}": _distinct(n) for n in range(1, 5)},
    "ead": _ead(1), "ead_2": _ead(2),
    "ngram_diversity": Metric("texts", "product of distinct-n for n = 1..4",
                              lambda s: _lexical.ngram_diversity(s.tokens), shared="tokens"),
    "self_bleu": Metric("texts", "mean BLEU of each text against the others (sacreBLEU 13a; lower = more diverse)",
                        lambda s: _lexical.self_bleu(s.bleu_tokens) if len(s.texts) > 1 else math.nan,
                        shared="bleu_tokens"),
    "compression_ratio": Metric("texts", "raw size / gzip size of all texts (higher = more repetitive)",
                                lambda s: _lexical.compression_ratio(s.texts)),
    **{stat: _quality(stat) for stat in ("quality_mean", "quality_std", "quality_min", "quality_p10", "quality_p25",
                                         "quality_median", "quality_p75", "quality_p90", "quality_max")},
    **{name: _derived("a reference set (`reference`)", f"{name} of the set against the reference (PRDC)")
       for name in ("precision", "recall", "density", "coverage")},
    "novelty": _derived("a reference set (`reference`)", "mean over items of 1 - max cosine similarity to the reference"),
    "novelty_ngram": _derived("texts and a reference set (`field`, `reference`)",
                              "share of the items' bigrams that no reference text has"),
    "novelty_utility": _derived("quality scores and a reference set (`quality_field`, `reference`)",
                                "mean over items of novelty x quality"),
    "domain_coverage": Metric("domains", "share of the domains (groups, else k-means clusters) holding an item",
                              lambda s: _domains.coverage_of(*s.domains), shared="domains"),
    "domain_evenness": Metric("domains", "exp(entropy of the domain shares) / number of domains",
                              lambda s: _domains.evenness_of(*s.domains), shared="domains"),
    "within_domain_vendi": Metric("X", "share-weighted mean Vendi score inside each domain",
                                  lambda s: _domains.within_vendi_of(s.X, *s.domains), shared="domains"),
    **{name: _derived(_INPUTS, f"{name.replace('_', ' ')}: among the outputs of one input, or across inputs")
       for name in ("per_input_vendi", "across_input_vendi", "per_input_distinct_2", "across_input_distinct_2")},
    "topk_mass": _derived(_TOPK, "top-k probability mass per generated token, mean over tokens then responses"),
    "topk_entropy": _derived(_TOPK, "entropy over the top-k tokens (unnormalised), mean over tokens then responses"),
    "topk_entropy_renormalized": _derived(_TOPK, "entropy of the top-k tokens renormalised to sum 1, mean over "
                                          "tokens then responses"),
    **{name: _derived(_GROUP_QUALITY, f"{name.replace('_', ' ')} over the groups' mean quality")
       for name in ("worst_group_quality", "group_p20_quality", "group_gini_quality", "harmony_quality")},
}.items():
    METRICS.register(_metric, _name)
DERIVED_METRICS = {name: m.requirement for name, m in METRICS.items() if m.needs == "derived"}
KNOWN_METRICS = (*METRICS.names(), *FAMILIES)


def get_metric(name: str) -> Metric:
    """The metric called ``name``: registered, or built from a family pattern; else UnknownNameError."""
    if name in METRICS:
        return METRICS[name]
    for build in FAMILIES.values():
        metric = build(name)
        if metric is not None:
            return metric
    raise UnknownNameError(f"unknown metric '{name}'; known: {', '.join(KNOWN_METRICS)}")


def metric_input(name: str) -> tuple[str, Callable[[Sample], float]]:
    """The input a metric needs ('X', 'texts', 'quality', 'Xq' or 'derived') and its function."""
    metric = get_metric(name)
    return metric.needs, metric.compute


def missing_input(name: str, *, X: bool, texts: bool, quality: bool, groups: bool = False) -> str | None:
    """What metric ``name`` needs that a run lacks, in words (None when it has everything or is derived)."""
    need = get_metric(name).needs
    have = {"X": X, "texts": texts, "quality": quality, "Xq": X and quality, "domains": X or groups,
            "derived": True}
    return None if have[need] else NEEDS[need]


EMBEDDING_METRICS = ("vendi", "vendi_q0.5", "vendi_q2", "vendi_qinf", "mean_pairwise_distance", "cluster_entropy")
TEXT_METRICS = ("distinct_1", "distinct_2", "distinct_3", "distinct_4", "ead", "ngram_diversity", "self_bleu",
                "compression_ratio")
QUALITY_METRICS = ("qvendi", "quality_mean", "quality_std", "quality_p10", "quality_median", "quality_p90")


def default_metrics(*, embeddings: bool, texts: bool, quality: bool) -> list[str]:
    """The metrics `measure` reports when the user names none, given which inputs exist."""
    names = list(EMBEDDING_METRICS) if embeddings else []
    names += list(TEXT_METRICS) if texts else []
    if quality:
        names += [m for m in QUALITY_METRICS if embeddings or m != "qvendi"]
    return names


def parse_metrics(spec: str | Sequence[str] | None) -> list[str] | None:
    """'vendi,distinct_2' -> ['vendi', 'distinct_2'], checking every name."""
    if spec is None:
        return None
    names = [m.strip() for m in spec.split(",")] if isinstance(spec, str) else list(spec)
    names = [m for m in names if m]
    for name in names:
        metric_input(name)
    return names


def compute(names: Sequence[str], sample: Sample, progress: Callable[[int], None] | None = None) -> dict[str, float]:
    """Every named metric of one sample; a metric whose input is missing is a UsageError.

    ``progress(1)`` is called after each metric.
    """
    out = {}
    for name in names:
        metric = get_metric(name)
        if metric.needs != "derived":
            lacking = missing_input(name, X=sample.X is not None, texts=sample.texts is not None,
                                    quality=sample.quality is not None, groups=sample.groups is not None)
            if lacking:
                raise UsageError(f"metric '{name}' needs {lacking}, which this run does not have")
            out[name] = float(metric(sample))
        if progress is not None:
            progress(1)
    return out
