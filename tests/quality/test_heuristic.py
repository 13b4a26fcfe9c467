"""The heuristic scorer: datatrove's verdicts document by document, golden verdicts, hand-computed statistics."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.utils.text import PUNCTUATION_SET, TERMINAL_PUNCTUATION

from quadiv.errors import UsageError
from quadiv.quality import HeuristicScorer, Item, get_scorer
from quadiv.quality._rules import PUNCTUATION, RULES
from quadiv.quality._rules import TERMINAL_PUNCTUATION as OURS_TERMINAL

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "alpaca_eval_outputs.jsonl"
FILTERS = {"gopher_quality": GopherQualityFilter, "gopher_repetition": GopherRepetitionFilter,
           "c4": C4QualityFilter, "fineweb": FineWebQualityFilter}
EDGE_CASES = ["", "   ", "\n\n\n", "Hello", "# # # #", "\n".join(["The same line of text, again and again."] * 10),
              "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" * 6,
              "We use cookies on this site.\nThis page has javascript in it, sadly.\n" + "A plain sentence here.\n" * 5,
              "function f() { return 1; } is a line of code.\n" + "Another clean sentence is here.\n" * 6]

# QUALITY.md, Appendix: datatrove 0.10.1's drops on rows 0-199 (the `output` field, default arguments).
GOLDEN_DROPS = {
    "gopher_quality": "0 3 5 8 14 18 21 22 24 25 26 27 34 38 40 43 48 50 51 55 70 71 73 74 81 83 84 88 91 93 97 99 "
                      "102 106 108 113 118 119 120 121 122 123 125 128 133 135 141 142 143 144 147 149 150 152 155 "
                      "158 159 161 164 168 169 172 174 183 190 195 196 197 198 199 "
                      "9 11 31 54 56 57 64 66 67 72 92 104 116 124 129 156 170 176 187 191",
    "gopher_repetition": "8 25 51 55 71 99 102 113 122 125 137 142 147 161 164 174 21 34 40 91 119 121 128 143 172 "
                         "187 195 24 50 93 120 133 144 149 150 168 190 33 129 156 170 78",
    "fineweb": "54 129 130 139 144 170 176 187 191 199 149 190 162",
}
GOLDEN_C4_KEPT = ("1 2 6 9 11 12 20 31 32 33 36 39 41 44 45 47 52 54 56 57 58 60 61 62 63 64 67 75 76 77 79 82 85 87 89 "
                  "92 94 96 100 104 105 115 116 124 131 134 136 138 146 148 153 156 162 171 177 179 182 186 187 193")


@pytest.fixture(scope="module")
def answers() -> list[str]:
    return [json.loads(line)["output"] for line in DATA.read_text().splitlines()[:200]]


@pytest.fixture(scope="module")
def datatrove_scores(answers):
    return HeuristicScorer(tokenizer="datatrove").score([Item(t) for t in answers])


def test_datatrove_mode_matches_the_golden_verdicts(datatrove_scores):
    for name, rows in GOLDEN_DROPS.items():
        dropped = set(np.flatnonzero(~datatrove_scores.columns[f"{name}_keep"]))
        assert dropped == {int(r) for r in rows.split()}, name
    assert set(np.flatnonzero(datatrove_scores.columns["c4_keep"])) == {int(r) for r in GOLDEN_C4_KEPT.split()}


def test_datatrove_mode_matches_datatrove_itself(answers, datatrove_scores):
    edge = HeuristicScorer(tokenizer="datatrove").score([Item(t) for t in EDGE_CASES])
    for name, make in FILTERS.items():
        for texts, scores in ((answers, datatrove_scores), (EDGE_CASES, edge)):
            theirs = [make().filter(Document(text=t, id=str(i))) is True for i, t in enumerate(texts)]
            assert scores.columns[f"{name}_keep"].tolist() == theirs, name


def test_punctuation_sets_are_datatrove_s():
    assert OURS_TERMINAL == TERMINAL_PUNCTUATION and PUNCTUATION == PUNCTUATION_SET


def test_whitespace_statistics_by_hand():
    text = "the cat sat with the dog ...\n- a list item\n\n- a list item"
    out = HeuristicScorer().score([Item(text)]).columns
    words = text.split()  # 15 words, '...' and the two '-' are punctuation only
    assert out["gopher_quality_words"][0] == 12
    assert out["gopher_quality_mean_word_length"][0] == pytest.approx(sum(map(len, ["the", "cat", "sat", "with", "the", "dog", "a", "list", "item", "a", "list", "item"])) / 12)
    assert out["gopher_quality_ellipsis_ratio"][0] == pytest.approx(1 / len(words))
    assert out["gopher_quality_bullet_lines"][0] == pytest.approx(2 / 4)  # 4 lines, one blank
    assert out["gopher_quality_ellipsis_lines"][0] == pytest.approx(1 / 4)
    assert out["gopher_quality_alpha_words"][0] == pytest.approx(12 / 15)
    assert out["gopher_quality_stop_words"][0] == 2  # the, with
    assert out["gopher_repetition_dup_para_frac"][0] == 0  # two different paragraphs
    assert out["gopher_repetition_dup_line_frac"][0] == pytest.approx(1 / 3)  # lines split on runs of \n
    assert out["gopher_repetition_dup_line_char_frac"][0] == pytest.approx(len("- a list item") / len(text))
    # top 2-gram: 'the cat'... each once except '- a', 'a list', 'list item' (twice); first of those wins
    assert out["gopher_repetition_top_2_gram"][0] == pytest.approx(2 * len("- a") / len(text))
    assert out["fineweb_lines"][0] == 3 and out["fineweb_line_punct_ratio"][0] == pytest.approx(1 / 3)
    assert out["fineweb_char_dup_ratio"][0] == pytest.approx(len("- a list item") / (len(text) - 3))
    assert out["fineweb_list_ratio"][0] == pytest.approx(3 / 15)


def test_repeated_ngrams_skip_past_each_repeat():
    out = HeuristicScorer().score([Item("a b c d e a b c d e a b c d e")]).columns
    # 5-grams joined without spaces: 'abcde' at 0, then positions 1-4 new, 'abcde' again at 5 (skip to 10),
    # 'abcde' at 10: two repeats of 5 characters
    assert out["gopher_repetition_dup_5_gram"][0] == pytest.approx(10 / 29)


def test_score_is_the_share_of_rules_passed_and_empty_text_scores_zero():
    scores = HeuristicScorer().score([Item(""), Item("Hello")])
    assert scores.values[0] == 0.0
    passed = sum(rule.passes(scores.columns[rule.column][1]) for rule in RULES)
    assert scores.values[1] == pytest.approx(passed / len(RULES))
    only = HeuristicScorer(filters="fineweb").score([Item("Hello")])
    fineweb = [r for r in RULES if r.filter == "fineweb"]
    assert only.values[0] == pytest.approx(sum(r.passes(only.columns[r.column][0]) for r in fineweb) / len(fineweb))


def test_bad_parameters_are_usage_errors():
    with pytest.raises(UsageError, match="whitespace or datatrove"):
        get_scorer("heuristic", tokenizer="nltk")
    with pytest.raises(UsageError, match="unknown heuristic filter"):
        get_scorer("heuristic", filters="gopher")
    assert get_scorer("heuristic").name != get_scorer("heuristic", tokenizer="datatrove").name
