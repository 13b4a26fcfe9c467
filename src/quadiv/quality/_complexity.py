"""The ``complexity`` scorer: lexical measures of how demanding an instruction is, needing no model."""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from quadiv.quality._base import Item, Scores, register_scorer

# Phrases that add a requirement to an instruction (format, length, inclusion, exclusion, order).
_CONSTRAINT = re.compile(
    r"\b(must|should|at least|at most|no more than|fewer than|more than|exactly|only|without|do not|don't|"
    r"never|always|include|including|avoid|format|in the form of|step by step|each|every|list|limit|"
    r"words?|sentences?|paragraphs?|bullet|json|table)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_WORD = re.compile(r"\w+", re.UNICODE)


class ComplexityScorer:
    """Instruction complexity from the text alone: score = ln(1 + words) + ln(1 + constraint phrases).

    Length and the number of stated requirements are the model-free complexity proxies of the quality /
    diversity / complexity survey (Havrilla et al. 2024, arXiv 2412.02980, §4: instruction length and
    constraint counts; model-based ones are ``ifd:<dir>`` and a DEITA-style complexity judge,
    ``judge:<model>`` with a complexity template). It scores ``Item.instruction``, or the text when an
    item has none. Columns: ``complexity_words``, ``complexity_sentences``, ``complexity_constraints``
    (matches of requirement phrases such as 'at least', 'must', 'in JSON', 'step by step'),
    ``complexity_type_token_ratio`` (distinct lower-cased words / words).
    """

    column, higher_is_better, needs_instruction, uses_instruction, batch_size = "complexity", True, False, True, 4096
    name = "complexity(v1)"

    def score(self, items: Sequence[Item]) -> Scores:
        """The complexity score and its measures for each item's instruction (else its text)."""
        texts = [item.instruction if item.instruction is not None else item.text for item in items]
        words = [_WORD.findall(t.lower()) for t in texts]
        n_words = np.array([len(w) for w in words], dtype=np.float64)
        constraints = np.array([len(_CONSTRAINT.findall(t)) for t in texts], dtype=np.float64)
        sentences = np.array([sum(1 for s in _SENTENCE.findall(t) if s.strip()) for t in texts], dtype=np.float64)
        ttr = np.array([len(set(w)) / len(w) if w else np.nan for w in words])
        return Scores(np.log1p(n_words) + np.log1p(constraints),
                      {"complexity_words": n_words, "complexity_sentences": sentences,
                       "complexity_constraints": constraints, "complexity_type_token_ratio": ttr})


register_scorer("complexity", ComplexityScorer)
