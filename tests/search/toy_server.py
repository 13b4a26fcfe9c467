"""A local OpenAI-compatible server for the toy domain: a mutator, a yes/no judge with logprobs, a category judge.

Replies depend only on the request (prompt, seed, choice index), as a seeded model's would.
"""
from __future__ import annotations

import json
import math
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from toy_domain import FakeLLM, descriptors, fitness


class ToyServer:
    def __init__(self, logprobs: bool = True):
        self.logprobs, self.requests, self.llm = logprobs, 0, FakeLLM()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests += 1
                data = json.dumps(outer.answer(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def stop(self):
        self.server.shutdown()

    def answer(self, body: dict) -> dict:
        prompt = body["messages"][-1]["content"]
        choices = []
        for i in range(body.get("n", 1)):
            text, top = self.reply(prompt, body.get("seed"), i)
            choice = {"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            if body.get("logprobs") and top is not None and self.logprobs:
                best = max(top, key=top.get)
                choice["logprobs"] = {"content": [{"token": best, "logprob": top[best], "top_logprobs": [
                    {"token": t, "logprob": lp} for t, lp in top.items()]}]}
            choices.append(choice)
        return {"id": "x", "object": "chat.completion", "model": body["model"], "choices": choices}

    def reply(self, prompt: str, seed, i: int):
        judged = re.match(r"(QUALITY|RED|BLUE)\?\n(.*)\nAnswer:$", prompt, re.DOTALL)
        if judged:
            kind, text = judged.groups()
            red, blue = descriptors(text)
            p = {"QUALITY": fitness(text), "RED": (red + 0.5) / 10, "BLUE": (blue + 0.5) / 10}[kind]
            p = min(max(p, 0.001), 0.999)
            return ("yes" if p >= 0.5 else "no"), {"yes": math.log(p), "no": math.log(1 - p)}
        if prompt.startswith("Here are three texts."):
            anchor, first, second = (prompt.split(f"Text {k}:\n")[1].split("\n\n")[0] for k in "ABC")
            a, b, c = (sum(descriptors(t)) for t in (anchor, first, second))
            k = "B" if abs(b - a) <= abs(c - a) else "C"
            return k, {k: math.log(0.8), "BC".replace(k, ""): math.log(0.2)}
        if prompt.startswith("Which of these categories"):
            text = prompt.split("Text:\n", 1)[1].rsplit("\n\nAnswer", 1)[0]
            words = text.split()
            k = 1 if words.count("red") >= words.count("blue") else 2
            return str(k), {str(k): math.log(0.9), str(3 - k): math.log(0.1)}
        return self.llm._reply(prompt, seed, i), None
