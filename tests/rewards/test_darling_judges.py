"""DARLING's pair judges beyond embeddings: a sequence-classification model directory and an LLM judge."""
from __future__ import annotations

import json
import math
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generate"))
from tiny_lm import build_tokenizer

from quadiv.rewards import DarlingReward

TEXTS = ["the cat sits on the hill in the sun", "the dog runs by the river in the dark",
         "a bird flies over the sea and the moon", "the cat sits on the hill in the warm sun"]


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory):
    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification

    tok = build_tokenizer()
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, num_labels=2, pad_token_id=tok.pad_token_id,
                         initializer_range=0.5)
    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("pair") / "classifier"
    LlamaForSequenceClassification(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_the_classifier_decides_each_pair_by_its_own_probability(classifier_dir):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(classifier_dir)
    model = AutoModelForSequenceClassification.from_pretrained(classifier_dir).eval()
    same = {}
    for i in range(4):
        for j in range(i + 1, 4):
            with torch.no_grad():
                p = model(**tok(TEXTS[i], TEXTS[j], return_tensors="pt")).logits.softmax(-1)[0, 1].item()
            same[(i, j)] = p > 0.5
    # the expected classes from the independent decisions, by hand
    parent = list(range(4))
    for (i, j), s in same.items():
        if s:
            a, b = parent[i], parent[j]
            parent = [a if x == b else x for x in parent]
    sizes = [parent.count(parent[i]) for i in range(4)]
    expected = [max(0.1, (4 - s) / 3) for s in sizes]
    reward = DarlingReward(equivalence="classifier", classifier=str(classifier_dir), gather=None, log_metrics=False)
    assert reward(prompts=["p"] * 4, completions=TEXTS) == pytest.approx(expected)


class Judge:
    """An OpenAI-compatible judge that calls two responses the same when they share their first four words."""

    def __init__(self):
        outer = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests += 1
                text = body["messages"][-1]["content"]
                a = text.split("Response A:\n")[1].split("\n\n")[0].split()[:4]
                b = text.split("Response B:\n")[1].split("\n\n")[0].split()[:4]
                p = 0.9 if a == b else 0.1
                top = [{"token": "yes", "logprob": math.log(p)}, {"token": "no", "logprob": math.log(1 - p)}]
                choice = {"index": 0, "message": {"role": "assistant", "content": "yes" if p > 0.5 else "no"},
                          "finish_reason": "stop",
                          "logprobs": {"content": [{"token": top[0]["token"], "logprob": top[0]["logprob"],
                                                    "top_logprobs": top}]}}
                data = json.dumps({"id": "x", "object": "chat.completion", "model": "m", "choices": [choice]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


def test_an_llm_judge_partitions_through_the_generation_backends():
    judge = Judge()
    try:
        reward = DarlingReward(equivalence="judge", judge="m", gather=None, log_metrics=False,
                               judge_params={"base_url": judge.url, "capabilities": "chat,top_logprobs"})
        got = reward(prompts=["p"] * 4, completions=TEXTS)
        assert got == pytest.approx([2 / 3, 1, 1, 2 / 3]) and judge.requests == 6
    finally:
        judge.server.shutdown()


def test_short_answers_never_reach_the_judge():
    judge = Judge()
    try:
        reward = DarlingReward(equivalence="judge", judge="m", gather=None, log_metrics=False,
                               judge_params={"base_url": judge.url, "capabilities": "chat,top_logprobs"})
        assert reward(prompts=["p"] * 3, completions=["Paris", "paris", "It is Lyon"]) == pytest.approx(
            [0.5, 0.5, 1.0])
        assert judge.requests == 0
        assert np.isclose(reward.floor, 0.1)
    finally:
        judge.server.shutdown()
