"""The ``heuristic`` scorer: the Gopher, C4 and FineWeb rules, scored as the fraction of rules a text passes."""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from quadiv._deps import require
from quadiv.errors import UsageError
from quadiv.quality._base import Item, Scores, register_scorer
from quadiv.quality._rules import FILTERS, RULES, statistics

TOKENIZERS = ("whitespace", "datatrove")
_LOW = np.array([rule.low for rule in RULES])
_HIGH = np.array([rule.high for rule in RULES])
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"')\]]*(?=\s|$)")


class HeuristicScorer:
    """Gopher quality and repetition, C4 and FineWeb rules (datatrove 0.10 defaults); score = share of rules passed.

    Each item gets every rule's statistic as a column (``gopher_quality_words``, ``fineweb_list_ratio``, ...),
    one verdict per filter (``gopher_quality_keep``, ``gopher_repetition_keep``, ``c4_keep``,
    ``fineweb_keep``: True when all its rules pass) and, as its score, the share of the chosen filters' rules
    it passes (30 rules with all four filters; a blank text scores 0, though it breaks no 'no lorem ipsum'
    rule). The rules were written for web pages: short chat answers
    fail the length and sentence rules often, so read the score as a ranking, not as a gate.

    Parameters:
        tokenizer: 'whitespace' (str.split; sentences end at . ! ? or an ellipsis before a space) or
            'datatrove' (spaCy's blank English tokenizer and sentencizer, as datatrove uses them for
            English, so each filter's verdict equals datatrove's; needs quadiv[heuristic]).
        filters: the filters that make the score, a comma list of gopher_quality, gopher_repetition, c4
            and fineweb (every filter's verdict and statistics are written either way).
        batch_size: texts tokenised per batch.
    """

    column, higher_is_better, needs_instruction = "heuristic", True, False

    def __init__(self, tokenizer: str = "whitespace", filters: str | Sequence[str] = FILTERS,
                 batch_size: int = 1024):
        if tokenizer not in TOKENIZERS:
            raise UsageError(f"the heuristic tokenizer must be whitespace or datatrove, got '{tokenizer}'")
        chosen = [f.strip() for f in filters.split(",")] if isinstance(filters, str) else list(filters)
        unknown = [f for f in chosen if f not in FILTERS]
        if unknown or not chosen:
            raise UsageError(f"unknown heuristic filter(s) {', '.join(unknown) or '(none given)'}; "
                             f"choose from {', '.join(FILTERS)}")
        if batch_size < 1:
            raise UsageError(f"batch_size must be a positive number of texts, got {batch_size}")
        self.tokenizer, self.filters, self.batch_size = tokenizer, tuple(f for f in FILTERS if f in chosen), batch_size
        self.name = f"heuristic(tokenizer={tokenizer},filters={','.join(self.filters)},datatrove-0.10.1-defaults)"
        self._nlp = None

    def score(self, items: Sequence[Item]) -> Scores:
        """Statistics, verdicts and the share of rules passed for each item's text."""
        texts = [item.text for item in items]
        if self.tokenizer == "whitespace":
            stats = [statistics(t, t.split(), _count_sentences) for t in texts]
        else:
            nlp = self._spacy()
            stats = [statistics(t, [s for s in (tok.text.strip() for tok in doc) if s], self._spacy_sentences)
                     for t, doc in zip(texts, nlp.tokenizer.pipe(texts, batch_size=64))]
        table = np.array(stats, dtype=np.float64).reshape(len(texts), len(RULES))
        passed = (table >= _LOW) & (table <= _HIGH)  # NaN fails both
        columns: dict[str, np.ndarray] = {}
        for name in FILTERS:
            columns[f"{name}_keep"] = passed[:, [r.filter == name for r in RULES]].all(axis=1)
        columns.update({rule.column: table[:, j] for j, rule in enumerate(RULES)})
        counted = [r.filter in self.filters for r in RULES]
        blank = np.array([not t.strip() for t in texts], dtype=bool)
        return Scores(np.where(blank, 0.0, passed[:, counted].mean(axis=1)), columns)

    def _spacy(self):
        """spaCy's blank English pipeline with a sentencizer, as datatrove's SpaCyTokenizer builds it."""
        if self._nlp is None:
            spacy = require("spacy", "heuristic", "the heuristic scorer's datatrove tokenizer")
            self._nlp = spacy.blank("en")
            self._nlp.add_pipe("sentencizer")
            self._nlp.max_length = 10**9
        return self._nlp

    def _spacy_sentences(self, lines: list[str]) -> list[int]:
        return [sum(1 for _ in doc.sents) for doc in self._spacy().pipe(lines, batch_size=256)]


def _count_sentences(lines: list[str]) -> list[int]:
    """Sentences per line without a tokenizer: runs of . ! ? or '…' followed by a space or the line's end."""
    return [max(1, len(_SENTENCE_END.findall(line))) for line in lines]


register_scorer("heuristic", HeuristicScorer)
