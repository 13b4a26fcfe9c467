"""Quality scorers: heuristic rules, reward models, classifiers, perplexity, LLM judges, behind one protocol.

A :class:`Scorer` maps :class:`Item` s (a text, optionally with its instruction) to one float each (NaN
where it cannot score) plus per-item columns; :func:`get_scorer` builds one from a spec such as
``heuristic`` or ``rm:<model dir>``; :func:`score` wraps any scorer with the SQLite :class:`ScoreCache`,
so a second or resumed run scores only what is new.
"""
from __future__ import annotations

from quadiv.quality._base import (
    SCORERS,
    Item,
    Scorer,
    Scores,
    get_scorer,
    parse_scorers,
    register_scorer,
    scorer_spec,
    split_params,
)
from quadiv.quality._cache import ScoreCache, item_key, score
from quadiv.quality._combine import combine, normalize_column
from quadiv.quality._complexity import ComplexityScorer
from quadiv.quality._fasttext import FastTextScorer
from quadiv.quality._heuristic import HeuristicScorer
from quadiv.quality._judge import JudgeScorer
from quadiv.quality._models import ClassifierScorer, RewardModelScorer
from quadiv.quality._perplexity import IFDScorer, PerplexityScorer
from quadiv.quality._pool import (
    ScoredColumn,
    build_scorers,
    instruction_field_for,
    pool_items,
    score_pool,
    scored_columns,
    summarize,
    with_columns,
)

__all__ = [
    "SCORERS",
    "ClassifierScorer",
    "ComplexityScorer",
    "FastTextScorer",
    "HeuristicScorer",
    "IFDScorer",
    "Item",
    "JudgeScorer",
    "PerplexityScorer",
    "RewardModelScorer",
    "ScoreCache",
    "ScoredColumn",
    "Scorer",
    "Scores",
    "build_scorers",
    "combine",
    "get_scorer",
    "instruction_field_for",
    "item_key",
    "normalize_column",
    "parse_scorers",
    "pool_items",
    "register_scorer",
    "score",
    "score_pool",
    "scored_columns",
    "scorer_spec",
    "split_params",
    "summarize",
    "with_columns",
]
