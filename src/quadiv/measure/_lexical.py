"""Lexical diversity of a set of texts: distinct-n, EAD, n-gram diversity, self-BLEU, compression ratio.

Every metric takes a sequence whose items are either texts (``str``) or pre-tokenised texts
(lists, tuples or arrays of hashable tokens: strings or token ids); texts are split with
``tokenizer`` (default :func:`tokenize`, except self-BLEU, which defaults to sacreBLEU's 13a
tokeniser). N-grams never cross the boundary between two texts. The n-grams of a set are built in
one vectorised pass: tokens become integer ids, and the n-grams starting at every position become
exact int64 codes (``code_n = code_(n-1) * V + id``, re-numbered densely before a product could
overflow), so counting is sorting integers, not hashing Python tuples.
"""
from __future__ import annotations

import gzip
import itertools
import math
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence

import numpy as np

from quadiv.errors import InputError, UsageError

Tokenizer = Callable[[str], Sequence[Hashable]]
Texts = Iterable[str] | Iterable[Sequence[Hashable]]

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
#: Vocabulary size of the GPT-2 BPE tokeniser: the EAD default of Kirk et al. (2024)'s code.
GPT2_VOCAB_SIZE = 50257
_SAFE_CODE = 2**62  # n-gram codes stay below this, so code * base never overflows int64


def tokenize(text: str) -> list[str]:
    """Split a text into lowercase word and punctuation tokens (the default tokeniser here).

    tokens = re.findall(r"\\w+|[^\\w\\s]", text.lower()): each maximal run of Unicode word characters
    (letters, digits, underscore) is one token and every other non-space character is a token of
    its own; whitespace only separates. ``tokenize("Don't stop!") == ["don", "'", "t", "stop", "!"]``.
    """
    return _TOKEN_RE.findall(text.lower())


def distinct_n(texts: Texts, n: int, *, tokenizer: Tokenizer | None = None) -> float:
    """Fraction of the n-grams of a set of texts that are distinct.

    distinct-n = |unique n-grams| / |n-grams|, counted over the whole set (a set with no n-gram,
    e.g. only texts shorter than n tokens, scores 0.0). Li, Galley, Brockett, Gao & Dolan (2016),
    "A Diversity-Promoting Objective Function for Neural Conversation Models", NAACL, evaluation
    metrics (the paper scales by the number of generated tokens; we divide by the number of n-grams
    as the common implementations and Liu et al. (2022) do; for n = 1 the two agree).
    """
    unique, total = _ngram_counts(texts, _orders(n, n), tokenizer)[0]
    return unique / total if total else 0.0


def ead(
    texts: Texts, n: int = 1, vocab_size: int | None = None, *, tokenizer: Tokenizer | None = None
) -> float:
    """Expectation-Adjusted Distinct: distinct n-grams over their expected number under uniform sampling.

    EAD = N / (V * (1 - ((V - 1) / V) ** C)), with N the unique n-grams, C the total n-grams of the
    set and V the vocabulary size; V (1 - ((V-1)/V)^C) is the expected number of distinct items in C
    uniform draws from V. Liu, Sabour, Zheng, Ke, Zhu & Huang (2022), "Rethinking and Refining the
    Distinct Metric", ACL (short). The paper's guideline takes V from the evaluated models'
    vocabulary; Kirk et al. (2024), "Understanding the Effects of RLHF on LLM Generalisation and
    Diversity", ICLR, use one V = 50257 (GPT-2's vocabulary) for every n, which is the default here
    (``vocab_size=None``). A set with no n-gram scores 0.0 (as in Kirk et al.'s code).
    """
    vocab = GPT2_VOCAB_SIZE if vocab_size is None else vocab_size
    if isinstance(vocab, bool) or not isinstance(vocab, (int, np.integer)) or vocab < 1:
        raise UsageError(
            f"vocab_size must be a positive integer or None (= {GPT2_VOCAB_SIZE}), got {vocab_size!r}"
        )
    unique, total = _ngram_counts(texts, _orders(n, n), tokenizer)[0]
    if total == 0:
        return 0.0
    # 1 - ((V-1)/V)^C computed as -expm1(C log1p(-1/V)), exact to rounding even for large V and C.
    expected = vocab * -math.expm1(total * math.log1p(-1.0 / vocab)) if vocab > 1 else 1.0
    return unique / expected


def ngram_diversity(texts: Texts, max_n: int = 4, *, tokenizer: Tokenizer | None = None) -> float:
    """N-gram diversity score: distinct-n summed over n = 1..max_n (ranges over [0, max_n]).

    NGD = sum_{n=1}^{max_n} |unique n-grams| / |n-grams| (an order with no n-gram adds 0).
    Padmakumar & He (2024), "Does Writing with Language Models Reduce Content Diversity?", ICLR;
    Shaib et al. (2024), "Standardizing the Measurement of Text Diversity".

    Not the same numbers as their package ``diversity`` (0.3.1, ``ngram_diversity_score``, num_n=4):
    it joins all texts with single spaces, splits that on " " (case and punctuation kept, so "Dog"
    and "dog." are two words; a newline does not split), lets n-grams run across text boundaries, and
    rounds to 3 decimals. Here tokens come from ``tokenizer`` (default :func:`tokenize`: lower-cased,
    punctuation split off) and n-grams stay inside each text, so formatting and text order do not
    count, and values are lower: 0.96 here against 2.15 there on GSM8K solutions. Their number is
    ``ngram_diversity([" ".join(texts)], tokenizer=lambda t: t.split(" "))`` (before rounding).
    """
    return sum(u / t if t else 0.0 for u, t in _ngram_counts(texts, _orders(1, max_n), tokenizer))


def compression_ratio(texts: Texts) -> float:
    """Gzip compression ratio of a set of texts: higher means more repetitive.

    CR = |b| / |gzip_9(b)| with b the UTF-8 bytes of the texts joined by single spaces (a
    pre-tokenised text is first joined by spaces) and gzip at level 9 with a zero timestamp, so the
    result is deterministic; an empty set scores 0.0. Shaib, Barrow, Sun, Siu, Wallace & Nenkova
    (2024), "Standardizing the Measurement of Text Diversity: A Tool and a Comparative Analysis of
    Scores": their package ``diversity`` joins with spaces and uses ``gzip.compress`` (level 9), but
    measures that output wrapped in a second gzip file (about 30 bytes more); we count the single
    gzip stream.
    """
    items = _items(texts)
    joined = " ".join(item if isinstance(item, str) else " ".join(map(str, item)) for item in items)
    data = joined.encode("utf-8")
    return len(data) / len(gzip.compress(data, compresslevel=9, mtime=0))


def self_bleu(
    texts: Texts,
    max_order: int = 4,
    *,
    tokenizer: Tokenizer | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> float:
    """Mean sentence-BLEU of each text against all the other texts as references (higher = less diverse).

    self-BLEU = (1/|H|) sum_{i in H} BLEU(x_i; {x_j : j != i}), H all texts or a random ``sample`` of
    them (drawn without replacement by ``numpy.random.default_rng(seed)``; references stay all
    other texts). Zhu et al. (2018), "Texygen: A Benchmarking Platform for Text Generation Models",
    SIGIR. BLEU is exactly sacreBLEU's ``sentence_bleu`` / 100 (Post 2018; Papineni et al. 2002):
    13a tokens of ``text.rstrip()``, case kept; p_n = clipped matches / hypothesis n-grams, where an
    n-gram's clip is its largest count in any one reference; an order with no match gets
    1 / (2^k * n-grams) for its k-th such order (exp smoothing, Chen & Cherry 2014, method 3);
    effective order (geometric mean over the orders the hypothesis has); score 0 when nothing
    matches; brevity penalty exp(1 - r/h) if h < r, with r the reference length closest to the
    hypothesis length h (the shorter on a tie). Pre-tokenised texts and ``tokenizer`` replace the
    13a step. Computed in near-linear time: the clip of n-gram g in text i against all others is
    min(c_i(g), max_{j != i} c_j(g)), where that max is the top count of g unless i alone holds it,
    then the next count.
    """
    if isinstance(max_order, bool) or not isinstance(max_order, (int, np.integer)) or max_order < 1:
        raise UsageError(f"max_order must be a positive integer, got {max_order!r}")
    tokens = _token_lists(texts, tokenizer or bleu_tokenizer())
    n_texts = len(tokens)
    if n_texts < 2:
        raise UsageError(
            f"self_bleu needs at least 2 texts (each is scored against the others), got {n_texts}"
        )
    ids, lengths, vocab = _encode(tokens)
    correct = np.zeros((n_texts, max_order))
    for order, (codes, owner) in enumerate(_ngram_codes(ids, lengths, vocab, max_order)):
        correct[:, order] = _clipped_matches(codes, owner, n_texts)
    total = np.maximum(lengths[:, None] - np.arange(max_order)[None, :], 0)
    scores = _sentence_bleu(correct, total, lengths, _closest_other_length(lengths))
    return float(scores[_hypotheses(n_texts, sample, seed)].mean())


def _items(texts: Texts) -> list:
    if isinstance(texts, (str, bytes)):
        raise UsageError(
            "texts must be a sequence of texts (or of token lists), got a single string; wrap it in a list"
        )
    return list(texts)


def _token_lists(texts: Texts, tokenizer: Tokenizer) -> list[Sequence[Hashable]]:
    """Tokenise each text; pre-tokenised items (lists, tuples, arrays of tokens) pass through unchanged."""
    out = []
    for i, item in enumerate(_items(texts)):
        if isinstance(item, str):
            out.append(tokenizer(item))
        elif isinstance(item, (list, tuple, np.ndarray)):
            out.append(item)
        else:
            raise InputError(
                f"item {i}: expected a text (str) or a list of tokens, got {type(item).__name__}",
                fix="pass texts as strings, or as lists of tokens (str or token ids)",
            )
    return out


def _encode(tokens: list[Sequence[Hashable]]) -> tuple[np.ndarray, np.ndarray, int]:
    """Map every token to a dense integer id: (flat ids, tokens per text, vocabulary size)."""
    flat = list(itertools.chain.from_iterable(tokens))
    vocab = dict(zip(dict.fromkeys(flat), itertools.count()))  # ids in order of first appearance
    ids = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=len(flat))
    lengths = np.fromiter((len(toks) for toks in tokens), dtype=np.int64, count=len(tokens))
    return ids, lengths, len(vocab)


def _ngram_codes(
    ids: np.ndarray, lengths: np.ndarray, vocab: int, max_n: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """For n = 1..max_n yield the exact code of every n-gram inside one text and that text's index.

    code_n[s] = code_(n-1)[s] * V + id[s + n - 1], so equal codes mean equal n-grams; codes are
    re-numbered densely (np.unique) whenever the next product could overflow int64.
    """
    owner = np.repeat(np.arange(len(lengths)), lengths)
    text_end = np.repeat(np.cumsum(lengths), lengths)
    room = text_end - np.arange(len(ids))  # tokens from each position to the end of its text
    base = max(vocab, 1)
    codes, bound = ids, base
    for n in range(1, max_n + 1):
        if n > 1:
            if bound > _SAFE_CODE // base:
                uniq, codes = np.unique(codes, return_inverse=True)
                bound = max(len(uniq), 1)
            codes = codes[:-1] * base + ids[n - 1 :]
            bound *= base
        keep = room[: len(codes)] >= n
        yield codes[keep], owner[: len(codes)][keep]


def _orders(first: int, last: object) -> range:
    """The n-gram orders first..last, checking that ``last`` (the user's n or max_n) is a positive int."""
    if isinstance(last, bool) or not isinstance(last, (int, np.integer)) or last < 1:
        raise UsageError(f"n-gram order must be a positive integer, got {last!r}")
    return range(first, int(last) + 1)


def _ngram_counts(texts: Texts, orders: range, tokenizer: Tokenizer | None) -> list[tuple[int, int]]:
    """(unique n-grams, total n-grams) over the whole set for each n in ``orders``."""
    ids, lengths, vocab = _encode(_token_lists(texts, tokenizer or tokenize))
    return [
        (_n_distinct(codes), int(codes.size))
        for n, (codes, _) in enumerate(_ngram_codes(ids, lengths, vocab, orders.stop - 1), start=1)
        if n in orders
    ]


def _n_distinct(values: np.ndarray) -> int:
    """Number of distinct integers (sort-based: much faster than np.unique's hash path here)."""
    ordered = np.sort(values)
    return int(ordered.size and 1 + np.count_nonzero(ordered[1:] != ordered[:-1]))


def _clipped_matches(codes: np.ndarray, owner: np.ndarray, n_texts: int) -> np.ndarray:
    """Per text, sum over its distinct n-grams g of min(c_i(g), max_{j != i} c_j(g))."""
    if codes.size == 0:
        return np.zeros(n_texts)
    if codes.max() >= _SAFE_CODE // n_texts:
        codes = np.unique(codes, return_inverse=True)[1].reshape(-1)
    keys, count = np.unique(codes * n_texts + owner, return_counts=True)  # sorted by (n-gram, text)
    gram, text = np.divmod(keys, n_texts)
    new_gram = np.r_[True, gram[1:] != gram[:-1]]
    starts = np.flatnonzero(new_gram)  # first row of each n-gram
    group = np.cumsum(new_gram) - 1  # row -> its n-gram
    top = np.maximum.reduceat(count, starts)[group]
    is_top = count == top
    sole_top = np.add.reduceat(is_top.astype(np.int64), starts)[group] == 1
    runner_up = np.maximum.reduceat(np.where(is_top, 0, count), starts)[group]
    best_other = np.where(is_top & sole_top, runner_up, top)
    return np.bincount(text, weights=np.minimum(count, best_other), minlength=n_texts)


def _closest_other_length(lengths: np.ndarray) -> np.ndarray:
    """For each text, the length of another text closest to its own (the shorter on a tie)."""
    ordered = np.sort(lengths)
    lo = np.searchsorted(ordered, lengths, side="left")
    hi = np.searchsorted(ordered, lengths, side="right")
    below = ordered[np.maximum(lo - 1, 0)]
    above = ordered[np.minimum(hi, len(ordered) - 1)]
    use_below = (lo > 0) & ((hi == len(ordered)) | (lengths - below <= above - lengths))
    return np.where(hi - lo >= 2, lengths, np.where(use_below, below, above))


def _sentence_bleu(
    correct: np.ndarray, total: np.ndarray, hyp_len: np.ndarray, ref_len: np.ndarray
) -> np.ndarray:
    """sacreBLEU's compute_bleu (exp smoothing, effective order) per row, divided by 100."""
    orders = total > 0
    unmatched = orders & (correct == 0)
    halvings = np.cumsum(unmatched, axis=1)
    safe_total = np.maximum(total, 1)
    precision = np.where(unmatched, 1.0 / (2.0**halvings * safe_total), correct / safe_total)
    log_precision = np.log(np.where(orders, precision, 1.0))  # orders the hypothesis lacks add 0
    log_mean = log_precision.sum(1) / np.maximum(orders.sum(1), 1)
    shorter = hyp_len < ref_len
    brevity = np.exp(1.0 - np.where(shorter, ref_len / np.maximum(hyp_len, 1), 1.0))
    return np.where(correct.sum(1) > 0, brevity * np.exp(log_mean), 0.0)


def _hypotheses(n_texts: int, sample: int | None, seed: int) -> np.ndarray:
    if sample is None:
        return np.arange(n_texts)
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or sample < 1:
        raise UsageError(f"sample must be a positive integer or None (score every text), got {sample!r}")
    if sample >= n_texts:
        return np.arange(n_texts)
    return np.random.default_rng(seed).choice(n_texts, size=sample, replace=False)


def bleu_tokenizer() -> Tokenizer:
    """sacreBLEU's default 13a tokeniser applied as sentence_bleu applies it (to text.rstrip())."""
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    tok13a = Tokenizer13a()
    return lambda text: tok13a(text.rstrip()).split()
