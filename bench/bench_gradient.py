"""Throughput of the gradient embedder (G-Vendi) on a tiny random causal LM over AlpacaEval rows.

Samples per second of ``GradientEmbedder`` (per-sample backward + seeded Rademacher projection) on
(instruction, output) pairs, the model a 2-layer LlamaForCausalLM (hidden 32, the word-level test
tokenizer of tests/generate/tiny_lm.py), plus the G-Vendi of the rows. Threads: set OMP_NUM_THREADS.

    OMP_NUM_THREADS=2 python bench/bench_gradient.py [--n 128] [--proj-dim 1024]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

from quadiv.embed import GradientEmbedder, join_prompt
from quadiv.measure import vendi

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "alpaca_eval_outputs.jsonl"


def tiny_lm():
    spec = importlib.util.spec_from_file_location("tiny_lm", ROOT / "tests" / "generate" / "tiny_lm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--proj-dim", type=int, default=1024)
    args = parser.parse_args()
    with DATA.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for _, line in zip(range(args.n), fh)]
    texts = [join_prompt(r["instruction"], r["output"]) for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        path = tiny_lm().save_tiny_lm(Path(tmp) / "lm", seed=0, init_std=0.02)
        model = GradientEmbedder(path, proj_dim=args.proj_dim, max_length=256)
        model.encode(texts[:2])  # load the model and draw the projection once
        start = time.perf_counter()
        X = model.encode(texts)
        seconds = time.perf_counter() - start
    params = sum(p.numel() for p in model._loaded()[0].parameters())
    print(f"{args.n} samples, {params} parameters, proj_dim {args.proj_dim}: {seconds:.2f} s, "
          f"{args.n / seconds:.1f} samples/s; G-Vendi {vendi(X):.3f}")


if __name__ == "__main__":
    main()
