"""judge:<model> against a local OpenAI-compatible server whose replies and top logprobs are scripted."""
from __future__ import annotations

import json
import math
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from quadiv.errors import RemoteError, UsageError
from quadiv.quality import Item, get_scorer


class Scripted:
    """Replies by prompt: ``script(prompt) -> (text, top_logprobs of the first token or None)``."""

    def __init__(self, script):
        self.script, self.requests = script, []
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                prompt = body["messages"][-1]["content"]
                choices = []
                for i in range(body.get("n", 1)):
                    text, top = outer.script(prompt, i)
                    choice = {"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    if body.get("logprobs") and top is not None:
                        best = max(top, key=top.get)
                        choice["logprobs"] = {"content": [{"token": best, "logprob": top[best], "top_logprobs": [
                            {"token": t, "logprob": lp} for t, lp in top.items()]}]}
                    choices.append(choice)
                data = json.dumps({"id": "x", "object": "chat.completion", "model": body["model"],
                                   "choices": choices}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def served():
    started = []

    def start(script):
        server = Scripted(script)
        started.append(server)
        return server

    yield start
    for server in started:
        server.server.shutdown()


LOG = math.log
ITEMS = [Item("Paris.", "What is the capital of France?"), Item("Blue, mostly.", "What colour is the sky?")]


def test_score_is_the_expected_label_summing_spellings(served):
    top = {"4": LOG(0.3), " 4": LOG(0.1), "5": LOG(0.2), "3": LOG(0.2), "Sure": LOG(0.2)}
    server = served(lambda prompt, i: ("4", top))
    judge = get_scorer("judge:m", base_url=server.url, capabilities="chat,top_logprobs")
    out = judge.score(ITEMS)
    mass = 0.3 + 0.1 + 0.2 + 0.2
    assert out.values == pytest.approx([(4 * 0.4 + 5 * 0.2 + 3 * 0.2) / mass] * 2)
    assert out.columns["judge_label_mass"] == pytest.approx([mass] * 2)
    assert not out.columns["judge_sampled"].any() and not out.columns["judge_unparsed"].any()
    assert all(sent["logprobs"] is True and sent["top_logprobs"] == 20 for sent in server.requests)
    prompts = sorted(sent["messages"][-1]["content"] for sent in server.requests)  # requests run concurrently
    assert any("What is the capital of France?" in p and "Paris." in p for p in prompts)


def test_yesno_is_p_yes_over_yes_and_no(served):
    server = served(lambda prompt, i: ("Yes", {"Yes": LOG(0.5), " yes": LOG(0.1), "No": LOG(0.2), "Maybe": LOG(0.2)}))
    out = get_scorer("judge:m", mode="yesno", base_url=server.url, capabilities="chat,top_logprobs").score(ITEMS[:1])
    assert out.values[0] == pytest.approx(0.6 / 0.8)


def test_pairwise_averages_both_orders(served):
    def script(prompt, i):  # a judge with a position bias: A is favoured by 0.2 in both orders
        first = prompt.split("#Response A#:\n")[1].split("\n\n")[0]
        p_a = 0.9 if first == "Paris." else 0.3  # 'Paris.' is better than the reference when A; worse when B
        return "A", {"A": LOG(p_a), "B": LOG(1 - p_a)}

    server = served(script)
    judge = get_scorer("judge:m", mode="pairwise", base_url=server.url, capabilities="chat,top_logprobs")
    out = judge.score([Item("Paris.", "What is the capital of France?", reference="Lyon.")])
    assert out.values[0] == pytest.approx((0.9 + (1 - 0.3)) / 2)
    assert len(server.requests) == 2
    with pytest.raises(UsageError, match="reference"):
        judge.score(ITEMS[:1])


def test_without_logprobs_it_samples_and_says_so(served):
    replies = ["4", "5", "not a number", "3"]
    server = served(lambda prompt, i: (replies[i], None))
    judge = get_scorer("judge:m", base_url=server.url, capabilities="chat,n_samples", samples=4)
    out = judge.score(ITEMS[:1])
    assert out.values[0] == pytest.approx(4.0) and out.columns["judge_sampled"][0]
    assert np.isnan(out.columns["judge_label_mass"][0])
    assert server.requests[0]["n"] == 4 and "logprobs" not in server.requests[0]


def test_an_unparsable_reply_is_nan_and_counted(served):
    server = served(lambda prompt, i: ("I cannot rate this.", {"I": LOG(0.9), "5": LOG(0.05)}))
    out = get_scorer("judge:m", base_url=server.url, capabilities="chat,top_logprobs").score(ITEMS)
    assert np.isnan(out.values).all() and out.columns["judge_unparsed"].all()


def test_prometheus_parses_the_result(served):
    replies = {0: "The answer is right and clear. [RESULT] 4", 1: "Fine. [RESULT] (5)", 2: "no verdict"}
    server = served(lambda prompt, i: (replies[i], None))
    judge = get_scorer("judge:m", mode="prometheus", base_url=server.url, capabilities="chat,n_samples", samples=3)
    out = judge.score(ITEMS[:1])
    assert out.values[0] == pytest.approx(4.5) and "###Score Rubrics" in server.requests[0]["messages"][-1]["content"]


def test_a_template_must_hold_the_mode_s_placeholders(tmp_path):
    bad = tmp_path / "t.txt"
    bad.write_text("Rate {instruction}")
    with pytest.raises(UsageError, match=r"lacks \{response\}"):
        get_scorer("judge:m", template=str(bad), base_url="http://127.0.0.1:9/v1", capabilities="chat")
    with pytest.raises(UsageError, match=r"lacks \{first\}, \{second\}"):
        get_scorer("judge:m", mode="pairwise", prompt="Which is better?", base_url="http://127.0.0.1:9/v1",
                   capabilities="chat")


def test_an_inline_prompt_without_an_instruction_is_a_descriptor_question(served):
    top = {"yes": LOG(0.6), "no": LOG(0.2)}
    server = served(lambda prompt, i: ("yes", top))
    judge = get_scorer("judge:m", mode="yesno", prompt="Is this story positive?\n{response}\nAnswer:",
                       base_url=server.url, capabilities="chat,top_logprobs")
    assert judge.reads_logprobs and judge.score([Item("A happy day.")]).values[0] == pytest.approx(0.75)
    assert server.requests[0]["messages"][-1]["content"] == "Is this story positive?\nA happy day.\nAnswer:"


def test_a_server_that_is_down_is_a_remote_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    judge = get_scorer("judge:m", base_url=f"http://127.0.0.1:{port}/v1", capabilities="chat,top_logprobs")
    with pytest.raises(RemoteError):
        judge.score(ITEMS[:1])
