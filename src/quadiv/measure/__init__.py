"""Pure metric functions on arrays: Vendi family, lexical diversity, reference-set coverage, groups,
domain coverage, novelty, ensemble diversity.

Nothing here reads files; every function takes numpy arrays or lists of texts.
"""
from quadiv.measure._bootstrap import add_intervals, bootstrap_ci
from quadiv.measure._domains import domain_coverage, domain_evenness, kmeans_domains, within_domain_vendi
from quadiv.measure._ensemble import ensemble_diversity
from quadiv.measure._groups import (
    gini,
    group_counts,
    group_quality,
    harmony,
    harmony_across_models,
    quality_stats,
)
from quadiv.measure._lexical import compression_ratio, distinct_n, ead, ngram_diversity, self_bleu, tokenize
from quadiv.measure._measure import group_spread, measure
from quadiv.measure._metrics import (
    FAMILIES,
    KNOWN_METRICS,
    METRICS,
    Metric,
    Sample,
    compute,
    default_metrics,
    get_metric,
    metric_input,
    missing_input,
    parse_metrics,
)
from quadiv.measure._novelty import ngram_novelty, novelty, novelty_utility, pooled_ngram_novelty
from quadiv.measure._reference import prdc
from quadiv.measure._selection import selection_metrics
from quadiv.measure._structure import across_input_diversity, cluster_entropy, per_input_diversity
from quadiv.measure._topk import TOPK_METRICS, topk_indicators
from quadiv.measure._vendi import (
    mean_pairwise_distance,
    qvendi,
    vendi,
    vendi_from_spectrum,
    vendi_kernel,
    vendi_samples,
    vendi_spectrum,
)

__all__ = [
    "FAMILIES",
    "KNOWN_METRICS",
    "METRICS",
    "TOPK_METRICS",
    "Metric",
    "Sample",
    "across_input_diversity",
    "add_intervals",
    "bootstrap_ci",
    "cluster_entropy",
    "compression_ratio",
    "compute",
    "default_metrics",
    "distinct_n",
    "domain_coverage",
    "domain_evenness",
    "ead",
    "ensemble_diversity",
    "get_metric",
    "gini",
    "group_counts",
    "group_quality",
    "group_spread",
    "harmony",
    "harmony_across_models",
    "kmeans_domains",
    "mean_pairwise_distance",
    "measure",
    "metric_input",
    "missing_input",
    "ngram_diversity",
    "ngram_novelty",
    "novelty",
    "novelty_utility",
    "parse_metrics",
    "per_input_diversity",
    "pooled_ngram_novelty",
    "prdc",
    "quality_stats",
    "qvendi",
    "selection_metrics",
    "self_bleu",
    "tokenize",
    "topk_indicators",
    "vendi",
    "vendi_from_spectrum",
    "vendi_kernel",
    "vendi_samples",
    "vendi_spectrum",
    "within_domain_vendi",
]
