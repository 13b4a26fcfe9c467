"""Time the heuristic scorer against datatrove's four filters on the same 8,000 AlpacaEval answers.

Run: python bench/bench_heuristic.py [N]
Data: the first N (default 8,000) `output` texts of ../shared/data/alpaca_eval_outputs.jsonl (8,050 rows).
datatrove: GopherQualityFilter, GopherRepetitionFilter, C4QualityFilter and FineWebQualityFilter with their
defaults, each called on a fresh Document per text (C4 rewrites the text it keeps), as a pipeline would.
quadiv: HeuristicScorer in whitespace and datatrove mode, without the score cache (the scorer alone).
Also counts the documents where a filter's verdict differs from datatrove's (0 is expected in datatrove mode).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline import filters as dt

from quadiv.quality import HeuristicScorer, Item

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alpaca_eval_outputs.jsonl"
FILTERS = {"gopher_quality": dt.GopherQualityFilter, "gopher_repetition": dt.GopherRepetitionFilter,
           "c4": dt.C4QualityFilter, "fineweb": dt.FineWebQualityFilter}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    texts = [json.loads(line)["output"] for line in DATA.read_text().splitlines()[:n]]
    filters = {name: make() for name, make in FILTERS.items()}
    filters["gopher_quality"].filter(Document(text="warm up spaCy.", id="0"))  # load outside the timing
    start = time.perf_counter()
    theirs = {name: [f.filter(Document(text=t, id=str(i))) is True for i, t in enumerate(texts)]
              for name, f in filters.items()}
    reference = time.perf_counter() - start
    print(f"{len(texts)} texts; datatrove's four filters: {reference:.2f} s")
    for tokenizer in ("whitespace", "datatrove"):
        scorer = HeuristicScorer(tokenizer=tokenizer)
        scorer.score([Item("warm up spaCy.")])
        start = time.perf_counter()
        ours = scorer.score([Item(t) for t in texts])
        took = time.perf_counter() - start
        differ = {name: sum(a != b for a, b in zip(ours.columns[f"{name}_keep"].tolist(), theirs[name]))
                  for name in FILTERS}
        print(f"quadiv heuristic ({tokenizer}): {took:.2f} s, {reference / took:.1f}x faster than datatrove; "
              f"verdicts that differ: {differ}")


if __name__ == "__main__":
    main()
