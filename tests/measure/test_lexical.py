"""Lexical diversity metrics: closed forms, properties, references (sacrebleu, gzip, tuple counting)."""
from __future__ import annotations

import gzip

import numpy as np
import pytest
import sacrebleu

from quadiv.errors import InputError, UsageError
from quadiv.measure import compression_ratio, distinct_n, ead, ngram_diversity, self_bleu, tokenize
from quadiv.measure._lexical import GPT2_VOCAB_SIZE, _closest_other_length


@pytest.fixture(scope="module")
def alpaca_outputs(alpaca_rows) -> list[str]:
    rows = alpaca_rows[:400]
    return [row["output"] for row in rows[::8]][:50]  # 50 answers from several generators


def random_texts(rng: np.random.Generator, vocab: int, max_len: int = 8) -> list[str]:
    n = int(rng.integers(2, 12))
    lengths = rng.integers(0, max_len + 1, size=n)
    texts = [" ".join(f"w{w}" for w in rng.integers(vocab, size=k)) for k in lengths]
    if rng.random() < 0.3:
        texts.append(texts[0])  # an exact duplicate
    return texts


def reference_ngrams(token_lists: list[list], n: int) -> list[tuple]:
    return [tuple(toks[i : i + n]) for toks in token_lists for i in range(len(toks) - n + 1)]


def sacrebleu_self_bleu(texts: list[str], hypotheses=None, **bleu_kwargs) -> float:
    bleu = sacrebleu.BLEU(effective_order=True, **bleu_kwargs)
    idx = range(len(texts)) if hypotheses is None else hypotheses
    others = [[t for j, t in enumerate(texts) if j != i] for i in idx]
    return float(np.mean([bleu.sentence_score(texts[i], refs).score / 100 for i, refs in zip(idx, others)]))


# --- tokenize -------------------------------------------------------------------------------------


def test_tokenize_lowercases_and_splits_punctuation_per_character():
    assert tokenize("Don't stop!") == ["don", "'", "t", "stop", "!"]
    assert tokenize("A--b  Über_2\n") == ["a", "-", "-", "b", "über_2"]
    assert tokenize("   ") == []


# --- distinct-n and n-gram diversity --------------------------------------------------------------


def test_distinct_closed_forms():
    assert distinct_n(["a b a b"], 1) == 0.5
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["a b", "b a"], 2) == 1.0  # no n-gram across texts: "b b" is never formed
    assert distinct_n(["a b", "c"], 3) == 0.0  # no 3-gram at all
    assert distinct_n([], 1) == 0.0


def test_duplicating_the_set_halves_distinct():
    texts = ["the cat sat on the mat", "a dog ran", "the cat ran"]
    for n in (1, 2, 3):
        assert distinct_n(texts + texts, n) == pytest.approx(distinct_n(texts, n) / 2)


def test_pretokenised_and_custom_tokenizer_inputs():
    texts = ["The cat, the CAT.", "a dog"]
    assert distinct_n([tokenize(t) for t in texts], 1) == distinct_n(texts, 1)
    assert distinct_n(texts, 1, tokenizer=str.split) == 1.0  # case and punctuation kept: all distinct
    assert distinct_n([[1, 2, 1], (3,)], 1) == 0.75  # token ids work too


def test_distinct_and_ngd_match_tuple_counting(alpaca_outputs):
    tokens = [tokenize(t) for t in alpaca_outputs]
    for n in (1, 2, 3, 4):
        grams = reference_ngrams(tokens, n)
        assert distinct_n(alpaca_outputs, n) == len(set(grams)) / len(grams)
    expected = sum(len(set(g)) / len(g) for g in (reference_ngrams(tokens, n) for n in range(1, 5)))
    assert ngram_diversity(alpaca_outputs) == pytest.approx(expected, abs=1e-12)


def test_large_vocabulary_renumbers_codes_without_collisions():
    rng = np.random.default_rng(0)
    tokens = [list(rng.integers(0, 200_000, size=rng.integers(0, 40))) for _ in range(300)]
    tokens += [tokens[3][:20], tokens[7]]  # shared long n-grams
    for n in (4, 5, 6):  # 200k^4 > 2^62: forces dense re-numbering
        grams = reference_ngrams(tokens, n)
        assert distinct_n(tokens, n) == len(set(grams)) / len(grams)


def test_ngram_diversity_closed_form_and_shaib_formula_on_one_text():
    assert ngram_diversity(["a b a b"], max_n=2) == pytest.approx(0.5 + 2 / 3)
    text = "i enjoy walking with my cute dog and i enjoy walking"
    words = text.split(" ")  # the `diversity` package's formula for a single document
    expected = sum(len(set(zip(*[words[k:] for k in range(n)]))) / (len(words) - n + 1) for n in range(1, 5))
    assert ngram_diversity([text], tokenizer=str.split) == pytest.approx(expected, abs=1e-12)


# --- EAD ------------------------------------------------------------------------------------------


def kirk_ead(texts: list[list[str]], n: int, vocab_size: int) -> float:
    """Kirk et al. (2024)'s ExpectationAdjustedDistinctNgrams formula on the same n-grams."""
    grams = reference_ngrams(texts, n)
    big_n, c, v = len(set(grams)), len(grams), vocab_size
    return big_n / (v * (1 - ((v - 1) / v) ** c))


def test_ead_matches_the_formula_and_kirk_default(alpaca_outputs):
    tokens = [tokenize(t) for t in alpaca_outputs]
    for n in (1, 2, 3):
        assert ead(alpaca_outputs, n) == pytest.approx(kirk_ead(tokens, n, GPT2_VOCAB_SIZE), rel=1e-9)
        assert ead(alpaca_outputs, n, vocab_size=5000) == pytest.approx(kirk_ead(tokens, n, 5000), rel=1e-9)


def test_ead_limits():
    texts = ["a b a b c", "c d"]
    assert ead(texts, 1, vocab_size=1) == 4.0  # expected distinct = 1, so EAD = N
    assert ead(texts, 2, vocab_size=10**12) == pytest.approx(distinct_n(texts, 2), rel=1e-6)  # V -> inf
    assert ead(["a"], 2) == 0.0
    with pytest.raises(UsageError):
        ead(texts, 1, vocab_size=0)


# --- compression ratio ----------------------------------------------------------------------------


def test_compression_ratio_matches_direct_gzip(alpaca_outputs):
    data = " ".join(alpaca_outputs).encode("utf-8")
    assert compression_ratio(alpaca_outputs) == len(data) / len(gzip.compress(data, compresslevel=9))
    assert compression_ratio([["a", "b"], "c"]) == compression_ratio(["a b c"])
    assert compression_ratio([]) == 0.0


def test_compression_ratio_rises_with_repetition(alpaca_outputs):
    assert compression_ratio(alpaca_outputs * 3) > 2 * compression_ratio(alpaca_outputs)


# --- self-BLEU ------------------------------------------------------------------------------------


def test_self_bleu_matches_sacrebleu_on_real_answers(alpaca_outputs):
    assert self_bleu(alpaca_outputs) == pytest.approx(sacrebleu_self_bleu(alpaca_outputs), abs=1e-9)


def test_self_bleu_matches_sacrebleu_on_random_sets():
    rng = np.random.default_rng(1)
    for _ in range(150):  # tiny vocabularies: many ties, duplicates, empty and 1-word texts
        texts = random_texts(rng, vocab=int(rng.integers(1, 6)))
        assert self_bleu(texts) == pytest.approx(sacrebleu_self_bleu(texts), abs=1e-9), texts


def test_self_bleu_edge_cases_match_sacrebleu():
    cases = [
        ["", "", "a"],
        ["a", "b", "a"],
        ["a b c", "a b", "a b c d"],  # equally close reference lengths 2 and 4
        ["The cat sat.", "the cat sat .", "A dog, 3.5 km-long!", "  trailing   "],
        ["x y z w v", "x y z w v", "x y"],
    ]
    for texts in cases:
        assert self_bleu(texts) == pytest.approx(sacrebleu_self_bleu(texts), abs=1e-9), texts


def test_closest_reference_length_prefers_the_shorter_on_ties():
    lengths = np.array([3, 2, 4, 4, 10])
    assert _closest_other_length(lengths).tolist() == [2, 3, 4, 4, 4]


def test_self_bleu_other_orders_match_sacrebleu(alpaca_outputs):
    texts = alpaca_outputs[:25]
    for order in (1, 2, 3, 5):
        expected = sacrebleu_self_bleu(texts, max_ngram_order=order)
        assert self_bleu(texts, max_order=order) == pytest.approx(expected, abs=1e-9)


def test_exact_duplicates_give_self_bleu_one():
    texts = ["the cat sat on the mat", "a dog", "x"]
    assert self_bleu(texts + texts) == pytest.approx(1.0, abs=1e-12)
    assert self_bleu(texts) < 0.5


def test_self_bleu_sample_scores_a_seeded_subset_against_all_references(alpaca_outputs):
    texts = alpaca_outputs[:30]
    chosen = np.random.default_rng(7).choice(len(texts), size=10, replace=False)
    assert self_bleu(texts, sample=10, seed=7) == pytest.approx(sacrebleu_self_bleu(texts, chosen), abs=1e-9)
    assert self_bleu(texts, sample=100) == self_bleu(texts)
    with pytest.raises(UsageError):
        self_bleu(texts, sample=0)


def test_self_bleu_pretokenised_and_custom_tokenizer_match_sacrebleu_none():
    texts = ["The cat, sat.", "the cat sat", "Cat sat, the."]
    expected = sacrebleu_self_bleu(texts, tokenize="none")
    assert self_bleu(texts, tokenizer=str.split) == pytest.approx(expected, abs=1e-9)
    assert self_bleu([t.split() for t in texts]) == pytest.approx(expected, abs=1e-9)


# --- input errors ---------------------------------------------------------------------------------


def test_bad_inputs_raise_actionable_errors():
    with pytest.raises(UsageError, match="at least 2 texts"):
        self_bleu(["only one"])
    with pytest.raises(UsageError, match="single string"):
        distinct_n("a b c", 1)
    with pytest.raises(UsageError, match="positive integer"):
        distinct_n(["a b"], 0)
    with pytest.raises(UsageError, match="positive integer"):
        ngram_diversity(["a b"], max_n=2.5)
    with pytest.raises(InputError, match="item 1"):
        distinct_n(["a b", 3], 1)


def _diversity_package_formula(texts: list[str], num_n: int = 4) -> float:
    """``diversity.ngram_diversity_score`` (0.3.1) written out: one space-joined, space-split stream."""
    words = " ".join(texts).split(" ")
    return sum(len(set(zip(*[words[k:] for k in range(n)]))) / (len(words) - n + 1) for n in range(1, num_n + 1))


def test_ngram_diversity_differs_from_the_diversity_package_as_documented():
    texts = ["A b", "a b."]
    # here: tokens a b | a b . ; 1-grams 3 distinct of 5, 2-grams {ab, b.} of 3, 3-grams {ab.} of 1, no 4-gram
    assert ngram_diversity(texts) == pytest.approx(3 / 5 + 2 / 3 + 1)
    # package: one stream A b a b. ; every 1..4-gram distinct
    assert _diversity_package_formula(texts) == 4.0
    assert ngram_diversity([" ".join(texts)], tokenizer=lambda t: t.split(" ")) == 4.0


def test_documented_recipe_reproduces_the_diversity_package(alpaca_outputs):
    texts = list(alpaca_outputs)
    ours = ngram_diversity([" ".join(texts)], tokenizer=lambda t: t.split(" "))
    assert ours == pytest.approx(_diversity_package_formula(texts), abs=1e-12)
    assert ours != pytest.approx(ngram_diversity(texts), abs=0.05)
