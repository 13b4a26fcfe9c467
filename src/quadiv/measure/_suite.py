"""The named metric set that `measure`, `select` and `front` all report, computed from arrays.

A metric is a stable snake_case name mapped to a function of a :class:`Sample` (embeddings, texts,
quality of one set of items). Vendi of every order shares one eigen-decomposition per sample.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from quadiv.errors import UnknownNameError, UsageError
from quadiv.measure import _groups, _lexical, _structure, _vendi


@dataclass
class Sample:
    """One set of items to measure; any of the three parts may be missing."""

    X: np.ndarray | None = None
    texts: Sequence[str] | None = None
    quality: np.ndarray | None = None
    seed: int = 0

    @cached_property
    def spectrum(self) -> np.ndarray:
        return _vendi.vendi_spectrum(self.X)

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
        """Tokenise the texts now for the named metrics that need tokens, so subsets reuse them."""
        if self.texts is not None:
            if any(name.startswith(("distinct_", "ead", "ngram_diversity")) for name in names):
                _ = self.tokens
            if "self_bleu" in names:
                _ = self.bleu_tokens
        return self

    def subset(self, idx: np.ndarray) -> Sample:
        """The items ``idx`` as a new Sample, reusing the tokens already computed here."""
        part = Sample(None if self.X is None else np.asarray(self.X[idx]),
                      None if self.texts is None else [self.texts[i] for i in idx],
                      None if self.quality is None else self.quality[idx], seed=self.seed)
        for name in ("tokens", "bleu_tokens"):
            if name in self.__dict__:
                part.__dict__[name] = [self.__dict__[name][i] for i in idx]
        return part

    @cached_property
    def clusters(self) -> dict:
        return _structure.cluster_entropy(self.X, seed=self.seed)

    @cached_property
    def quality_stats(self) -> dict:
        return _groups.quality_stats(self.quality)


def _vendi_order(name: str) -> float:
    """'vendi' -> 1, 'vendi_q0.5' -> 0.5, 'vendi_qinf' -> inf."""
    if name in ("vendi", "qvendi"):
        return 1.0
    order = name.split("_q", 1)[1]
    return math.inf if order == "inf" else float(order)


def metric_input(name: str) -> tuple[str, Callable[[Sample], float]]:
    """The input a metric needs ('X', 'texts' or 'quality') and its function."""
    if name == "vendi" or (name.startswith("vendi_q") and _is_order(name[7:])):
        q = _vendi_order(name)
        return "X", lambda s: _vendi.vendi_from_spectrum(s.spectrum, q)
    if name == "qvendi":
        return "Xq", lambda s: float(np.mean(s.quality)) * _vendi.vendi_from_spectrum(s.spectrum, 1.0)
    if name == "mean_pairwise_distance":
        return "X", lambda s: _vendi.mean_pairwise_distance(s.X, normalize=False)
    if name in ("cluster_entropy", "cluster_entropy_norm"):
        return "X", lambda s: s.clusters[name]
    if name.startswith("distinct_") and name[9:] in ("1", "2", "3", "4"):
        n = int(name[9:])
        return "texts", lambda s: _lexical.distinct_n(s.tokens, n)
    if name == "ead" or (name.startswith("ead_") and name[4:] in ("1", "2", "3", "4")):
        n = int(name[4:]) if name != "ead" else 1
        return "texts", lambda s: _lexical.ead(s.tokens, n)
    if name == "ngram_diversity":
        return "texts", lambda s: _lexical.ngram_diversity(s.tokens)
    if name == "self_bleu":  # on the raw texts (sacrebleu's tokeniser); undefined for one text
        return "texts", lambda s: _lexical.self_bleu(s.bleu_tokens) if len(s.texts) > 1 else math.nan
    if name == "compression_ratio":
        return "texts", lambda s: _lexical.compression_ratio(s.texts)
    if name.startswith("quality_"):
        return "quality", lambda s: s.quality_stats[name]
    if name in DERIVED_METRICS:
        return "derived", lambda s: math.nan  # computed by `measure` from its extra inputs
    raise UnknownNameError(f"unknown metric '{name}'; known: {', '.join(KNOWN_METRICS)}")


def _is_order(text: str) -> bool:
    if text == "inf":
        return True
    try:
        return float(text) > 0
    except ValueError:
        return False


# Metrics of the whole set that need an extra input besides embeddings, texts and quality; `measure`
# computes them, named here so that --metrics accepts them: name -> what it needs.
_GROUP_QUALITY = "groups and quality scores (--group-field and --quality-field)"
_INPUTS = "input ids (--input-field)"
DERIVED_METRICS = {
    **dict.fromkeys(("precision", "recall", "density", "coverage"), "a reference set (--reference)"),
    **dict.fromkeys(("per_input_vendi", "across_input_vendi", "per_input_distinct_2", "across_input_distinct_2"),
                    _INPUTS),
    **dict.fromkeys(("worst_group_quality", "group_p20_quality", "group_gini_quality", "harmony_quality"),
                    _GROUP_QUALITY),
}
KNOWN_METRICS = (
    "vendi", "vendi_q0.5", "vendi_q2", "vendi_qinf", "vendi_q<order>", "qvendi", "mean_pairwise_distance",
    "cluster_entropy", "cluster_entropy_norm", "distinct_1", "distinct_2", "distinct_3", "distinct_4",
    "ead", "ead_2", "ngram_diversity", "self_bleu", "compression_ratio", "quality_mean", "quality_std",
    "quality_min", "quality_p10", "quality_p25", "quality_median", "quality_p75", "quality_p90", "quality_max",
    *DERIVED_METRICS,
)
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
    have = {"X": sample.X is not None, "texts": sample.texts is not None, "quality": sample.quality is not None}
    have["Xq"] = have["X"] and have["quality"]
    have["derived"] = True
    needs_text = {"X": "embeddings", "texts": "texts", "quality": "quality scores (--quality-field)",
                  "Xq": "embeddings and quality scores"}
    out = {}
    for name in names:
        need, fn = metric_input(name)
        if need != "derived":
            if not have[need]:
                raise UsageError(f"metric '{name}' needs {needs_text[need]}, which this run does not have")
            out[name] = float(fn(sample))
        if progress is not None:
            progress(1)
    return out
