"""Web-text quality rules as pure statistics, with each anchor's threshold and direction kept apart.

Four filters, each as datatrove 0.10.1 implements it with its default arguments
(``datatrove/pipeline/filters/{gopher_quality,gopher_repetition,c4,fineweb_quality}_filter.py``):

- ``gopher_quality``: Gopher/MassiveText quality rules (Rae et al. 2021, arXiv 2112.11446, App. A).
- ``gopher_repetition``: Gopher repetition rules (Rae et al. 2021, Table A1).
- ``c4``: C4's line and page rules (Raffel et al. 2020, JMLR 21(140) §2.2; TFDS ``c4_utils.py``).
- ``fineweb``: FineWeb's extra rules (Penedo et al. 2024, arXiv 2406.17557, §3.3).

:func:`statistics` returns every rule's statistic for one document; :data:`RULES` holds, per statistic, the
inclusive range a document must fall in to pass. A filter keeps a document when all its rules pass, which is
datatrove's verdict (datatrove stops at the first failing rule; the verdict is the same). A statistic that is
undefined (NaN: a ratio over no words or no lines) fails its rule; datatrove never reaches such a rule,
because an earlier rule of the same filter (too few words, an empty document) has already failed.
The words are given by the caller, so the same rules serve whitespace and spaCy tokenisation.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# The characters datatrove counts as punctuation (``datatrove/utils/text.py``): control characters
# 0-8, 11-31 and 127-159, ASCII and CJK/full-width marks, and the 159 sentence terminals below.
TERMINAL_PUNCTUATION = frozenset(
    "!.?\u0589\u061d\u061e\u061f\u06d4\u0700\u0701\u0702\u07f9\u0837\u0839\u083d\u083e\u0964\u0965\u104a\u104b"
    "\u1362\u1367\u1368\u166e\u1735\u1736\u17d4\u17d5\u17d6\u17d9\u17da\u1803\u1809\u1944\u1945\u1aa8\u1aa9"
    "\u1aaa\u1aab\u1b5a\u1b5b\u1b5e\u1b5f\u1b7d\u1b7e\u1c3b\u1c3c\u1c7e\u1c7f\u203c\u203d\u2047\u2048\u2049"
    "\u2e2e\u2e3c\u2e53\u2e54\u3002\ua4ff\ua60e\ua60f\ua6f3\ua6f7\ua876\ua877\ua8ce\ua8cf\ua92f\ua9c8\ua9c9"
    "\uaa5d\uaa5e\uaa5f\uaaf0\uaaf1\uabeb\ufe52\ufe56\ufe57\uff01\uff0e\uff1f\uff61\U00010a56\U00010a57"
    "\U00010f55\U00010f56\U00010f57\U00010f58\U00010f59\U00010f86\U00010f87\U00010f88\U00010f89\U00011047"
    "\U00011048\U000110be\U000110bf\U000110c0\U000110c1\U00011141\U00011142\U00011143\U000111c5\U000111c6"
    "\U000111cd\U000111de\U000111df\U00011238\U00011239\U0001123b\U0001123c\U000112a9\U0001144b\U0001144c"
    "\U000115c2\U000115c3\U000115c9\U000115ca\U000115cb\U000115cc\U000115cd\U000115ce\U000115cf\U000115d0"
    "\U000115d1\U000115d2\U000115d3\U000115d4\U000115d5\U000115d6\U000115d7\U00011641\U00011642\U0001173c"
    "\U0001173d\U0001173e\U00011944\U00011946\U00011a42\U00011a43\U00011a9b\U00011a9c\U00011c41\U00011c42"
    "\U00011ef7\U00011ef8\U00011f43\U00011f44\U00016a6e\U00016a6f\U00016af5\U00016b37\U00016b38\U00016b44"
    "\U00016e98\U0001bc9f\U0001da88")
PUNCTUATION = TERMINAL_PUNCTUATION | frozenset(
    "".join(map(chr, (*range(9), *range(11, 32), *range(127, 160))))
    + "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\xab\xb4\xbb\u2013\u2014\u2019\u201c\u201d\u201e\u2026\u2236\u2501\u25ba"
    "\u3001\u3002\u3008\u3009\u300a\u300b\u300c\u300d\u3010\u3011\uff01\uff05\uff08\uff09\uff0c\uff0e\uff11"
    "\uff1a\uff1b\uff1f\uff5e")
_TERMINAL = tuple(TERMINAL_PUNCTUATION)
STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})  # Gopher's, case-sensitive
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
_LINE_BREAKS = re.compile(r"\n+")
FILTERS = ("gopher_quality", "gopher_repetition", "c4", "fineweb")


@dataclass(frozen=True)
class Rule:
    """A document passes when ``low <= statistic <= high``; ``filter`` is the filter the rule belongs to."""

    column: str
    filter: str
    low: float = -math.inf
    high: float = math.inf

    def passes(self, value: float) -> bool:
        return self.low <= value <= self.high  # NaN compares False: an undefined statistic fails


_GQ, _GR = "gopher_quality", "gopher_repetition"
RULES: tuple[Rule, ...] = (
    Rule("gopher_quality_words", _GQ, 50, 100_000),  # words with a non-punctuation character
    Rule("gopher_quality_mean_word_length", _GQ, 3, 10),
    Rule("gopher_quality_hash_ratio", _GQ, high=0.1),  # '#' per word
    Rule("gopher_quality_ellipsis_ratio", _GQ, high=0.1),  # '...' and '…' per word
    Rule("gopher_quality_bullet_lines", _GQ, high=0.9),  # share of lines starting with '•' or '-'
    Rule("gopher_quality_ellipsis_lines", _GQ, high=0.3),  # share of lines ending with '...' or '…'
    Rule("gopher_quality_alpha_words", _GQ, low=0.8),  # share of words with an alphabetic character
    Rule("gopher_quality_stop_words", _GQ, low=2),  # distinct Gopher stop words present
    Rule("gopher_repetition_chars", _GR, low=1),  # an empty document fails
    Rule("gopher_repetition_dup_para_frac", _GR, high=0.3),
    Rule("gopher_repetition_dup_para_char_frac", _GR, high=0.2),
    Rule("gopher_repetition_dup_line_frac", _GR, high=0.3),
    Rule("gopher_repetition_dup_line_char_frac", _GR, high=0.2),
    Rule("gopher_repetition_top_2_gram", _GR, high=0.2),
    Rule("gopher_repetition_top_3_gram", _GR, high=0.18),
    Rule("gopher_repetition_top_4_gram", _GR, high=0.16),
    *(Rule(f"gopher_repetition_dup_{n}_gram", _GR, high=0.15 - 0.01 * (n - 5)) for n in range(5, 11)),
    Rule("c4_sentences", "c4", low=5),  # sentences on the lines C4 keeps
    Rule("c4_lorem_ipsum", "c4", high=0),  # 1 when a kept line says 'lorem ipsum'
    Rule("c4_curly_bracket", "c4", high=0),  # 1 when a kept line holds '{'
    Rule("fineweb_lines", "fineweb", low=1),  # non-blank lines
    Rule("fineweb_line_punct_ratio", "fineweb", low=0.12),  # share of lines ending in terminal punctuation
    Rule("fineweb_short_line_ratio", "fineweb", high=0.67),  # share of lines of at most 30 characters
    Rule("fineweb_char_dup_ratio", "fineweb", high=0.01),  # characters in repeated lines / all but newlines
    Rule("fineweb_list_ratio", "fineweb", high=0.3),  # newlines per word
)
COLUMNS = tuple(rule.column for rule in RULES)


def statistics(text: str, words: Sequence[str], count_sentences: Callable[[list[str]], list[int]]) -> list[float]:
    """Every rule's statistic for ``text`` tokenised as ``words``, in :data:`RULES` order.

    ``count_sentences(lines)`` gives the number of sentences of each line C4 keeps.
    """
    return [*_gopher_quality(text, words), *_gopher_repetition(text, words), *_c4(text, count_sentences),
            *_fineweb(text, words)]


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def _gopher_quality(text: str, words: Sequence[str]) -> list[float]:
    n = len(words)
    content = [w for w in words if not PUNCTUATION.issuperset(w)]
    lines = text.splitlines()
    return [
        len(content),
        sum(map(len, content)) / len(content) if content else math.nan,
        _ratio(text.count("#"), n),
        _ratio(text.count("...") + text.count("\u2026"), n),
        _ratio(sum(line.lstrip().startswith(("\u2022", "-")) for line in lines), len(lines)),
        _ratio(sum(line.rstrip().endswith(("...", "\u2026")) for line in lines), len(lines)),
        _ratio(sum(any(c.isalpha() for c in w) for w in words), n),
        len(STOP_WORDS.intersection(words)),
    ]


def _duplicates(parts: Sequence[str]) -> tuple[int, int]:
    """(parts seen before, their characters): datatrove's ``find_duplicates``."""
    seen: set[str] = set()
    count = chars = 0
    for part in parts:
        if part in seen:
            count += 1
            chars += len(part)
        else:
            seen.add(part)
    return count, chars


def _top_gram_chars(words: Sequence[str], n: int) -> int:
    """Characters covered by the most frequent n-gram (' '-joined; the first seen among ties), 0 without n-grams."""
    if len(words) < n:
        return 0
    counts = Counter(zip(*(words[i:] for i in range(n))))
    gram, count = max(counts.items(), key=lambda item: item[1])
    return (sum(map(len, gram)) + n - 1) * count


def _repeated_gram_chars(words: Sequence[str], n: int) -> int:
    """Characters in n-grams ('' -joined) seen before, skipping past each repeat: datatrove's ``find_all_duplicate``."""
    seen: set[str] = set()
    chars = i = 0
    last = len(words) - n
    while i <= last:
        gram = "".join(words[i:i + n])
        if gram in seen:
            chars += len(gram)
            i += n
        else:
            seen.add(gram)
            i += 1
    return chars


def _gopher_repetition(text: str, words: Sequence[str]) -> list[float]:
    size = len(text)
    paragraphs = _PARAGRAPH_BREAK.split(text.strip())
    para_dups, para_chars = _duplicates(paragraphs)
    lines = _LINE_BREAKS.split(text)
    line_dups, line_chars = _duplicates(lines)
    return [
        size,
        para_dups / len(paragraphs), _ratio(para_chars, size),
        line_dups / len(lines), _ratio(line_chars, size),
        *(_ratio(_top_gram_chars(words, n), size) for n in (2, 3, 4)),
        *(_ratio(_repeated_gram_chars(words, n), size) for n in range(5, 11)),
    ]


def _c4(text: str, count_sentences: Callable[[list[str]], list[int]]) -> list[float]:
    """C4's page rules over the lines it keeps (terminal punctuation, >= 3 words, no javascript or policy)."""
    kept, lorem, curly = [], 0, 0
    for line in text.splitlines():
        line = line.strip()
        words = line.split()
        if any(len(w) > 1000 for w in words):
            continue
        line = _CITATION.sub("", line)
        if not line.endswith((".", "?", "!", '"', "'")) or line.endswith("...") or len(words) < 3:
            continue
        lower = line.lower()
        lorem |= "lorem ipsum" in lower
        if "javascript" in lower:
            continue
        curly |= "{" in line
        if any(p in lower for p in POLICY_PHRASES):
            continue
        kept.append(line)
    return [sum(count_sentences(kept)) if kept else 0, lorem, curly]


def _fineweb(text: str, words: Sequence[str]) -> list[float]:
    lines = [line for line in text.split("\n") if line.strip()]
    n = len(lines)
    return [
        n,
        _ratio(sum(line.endswith(_TERMINAL) for line in lines), n),
        _ratio(sum(len(line) <= 30 for line in lines), n),
        _ratio(_duplicates(lines)[1], len(text) - text.count("\n")) if n else math.nan,
        _ratio(text.count("\n"), len(words)),
    ]
