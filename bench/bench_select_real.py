"""Selection on real answers with real quality labels: method x tradeoff -> quality, Vendi, seconds.

The 8,050 AlpacaEval answers (quality = AlpacaEval 2 preference over GPT-4-turbo), embedded with
the default `static` embedder; each method picks --budget rows at each tradeoff. The last rows give
the median of 5 random selections, the baseline the issue asks every method to beat at t = 0.5.

    python bench/bench_select_real.py [--budget 400] [--methods facility-location,dpp,mmr,cluster]
        [--embedder static|minilm]

A method may carry parameters: `facility-location:weighting=uniform`.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from quadiv import io
from quadiv.embed import embed
from quadiv.measure import vendi
from quadiv.select import select

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alpaca_eval_outputs.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--budget", type=int, default=400)
    parser.add_argument("--methods", default="facility-location,dpp,mmr,cluster,qvendi,k-center,d3,quad,quadmix")
    parser.add_argument("--tradeoffs", default="0,0.25,0.5,0.75,1")
    parser.add_argument("--embedder", default="static")
    args = parser.parse_args()
    table = io.read(str(args.data))
    X = embed(io.render_texts(table, "output"), embedder=args.embedder)
    quality = io.float_column(table, "quality")
    rand = [select(X, args.budget, method="random", seed=s).indices for s in range(5)]
    rand_q = float(np.median([quality[i].mean() for i in rand]))
    rand_v = float(np.median([vendi(X[i]) for i in rand]))
    print("| method | tradeoff | quality_mean | vendi | seconds | beats random median on both |")
    print("|---|---|---|---|---|---|")
    for spec in args.methods.split(","):
        method, _, param_text = spec.partition(":")
        params = dict(pair.split("=", 1) for pair in param_text.split(";") if pair)
        for t in (float(x) for x in args.tradeoffs.split(",")):
            start = time.perf_counter()
            idx = select(X, args.budget, method=method, quality=quality, tradeoff=t, seed=0, **params).indices
            seconds = time.perf_counter() - start
            q, v = float(quality[idx].mean()), vendi(X[idx])
            print(f"| {spec} | {t:g} | {q:.4f} | {v:.2f} | {seconds:.2f} | {q > rand_q and v > rand_v} |")
    print(f"| random (median of 5) | - | {rand_q:.4f} | {rand_v:.2f} | - | - |")
    print(f"| whole pool ({table.num_rows}) | - | {quality.mean():.4f} | {vendi(X):.2f} | - | - |")


if __name__ == "__main__":
    main()
