"""Chat helpers every prompt-level strategy shares: batched chat calls, derived seeds, list parsing."""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from quadiv.generate._base import Backend, GenRequest

Messages = list[dict[str, str]]


def sub_seed(seed: int, *keys: int) -> int:
    """A reproducible 31-bit seed derived from ``seed`` and integer ``keys`` (numpy SeedSequence)."""
    state = np.random.SeedSequence(entropy=int(seed) & 0xFFFFFFFFFFFFFFFF, spawn_key=tuple(int(k) for k in keys))
    return int(state.generate_state(1)[0] >> 1)


def chat(backend: Backend, conversations: Sequence[Messages], *, seeds: Sequence[int], temperature: float,
         max_tokens: int, top_p: float = 1.0, n: int = 1, extra: dict[str, Any] | None = None) -> list[list[str]]:
    """Send every conversation in one ``backend.generate`` batch; return its ``n`` reply texts.

    n > 1 goes in one request when the backend offers ``n_samples``, otherwise as n requests with
    derived seeds (the same i.i.d. samples, so nothing is approximated).
    """
    one_request = n == 1 or "n_samples" in backend.capabilities
    requests, owners = [], []
    for i, (messages, seed) in enumerate(zip(conversations, seeds, strict=True)):
        per = [(n, seed)] if one_request else [(1, sub_seed(seed, j)) for j in range(n)]
        for count, s in per:
            requests.append(GenRequest(messages=list(messages), n=count, temperature=temperature, top_p=top_p,
                                       max_tokens=max_tokens, seed=s, extra=dict(extra or {})))
            owners.append(i)
    replies: list[list[str]] = [[] for _ in conversations]
    for owner, completions in zip(owners, backend.generate(requests), strict=True):
        replies[owner].extend(c.text for c in completions)
    return replies


_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*[ \t]*\n?(.*?)```", re.DOTALL)
BULLET = re.compile(r"^\s*(?:\d{1,3}\s*[.):]|[-*\u2022]|\(\d{1,3}\))\s+(.*)$")


def json_values(text: str) -> list[Any]:
    """The JSON value the text holds: its outermost braces/brackets, else fenced blocks, else any objects.

    The whole text comes first: a fenced snippet inside a candidate's text (a JSON string holding
    ``````json [1, 2]``````) must not stand for the reply.
    """
    sources = [text] + [m.group(1) for m in _FENCE.finditer(text)]
    for source in sources:
        for opener, closer in (("{", "}"), ("[", "]")):
            lo, hi = source.find(opener), source.rfind(closer)
            if lo != -1 and hi > lo:
                chunk = re.sub(r",\s*([}\]])", r"\1", source[lo:hi + 1])
                try:
                    return [json.loads(chunk)]
                except json.JSONDecodeError:
                    continue
    found = _scattered_objects(text)
    return [found] if found else []


def _scattered_objects(text: str) -> list[Any]:
    """Complete ``{...}`` objects found anywhere (salvages truncated or wrapped JSON)."""
    decoder, found, pos = json.JSONDecoder(), [], 0
    while (pos := text.find("{", pos)) != -1:
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            pos += 1
            continue
        if isinstance(value, dict):
            found.append(value)
        pos = end
    return found


def parse_list(text: str) -> list[str]:
    """A list of strings from a reply: a JSON list (fenced or not), else numbered or bulleted lines."""
    for value in json_values(text):
        items = value if isinstance(value, list) else next(
            (v for v in value.values() if isinstance(v, list)), None) if isinstance(value, dict) else None
        if items is not None:
            strings = [str(x).strip() for x in items if isinstance(x, (str, int, float)) and str(x).strip()]
            if strings:
                return strings
    return [m.group(1).strip() for line in text.splitlines() if (m := BULLET.match(line)) and m.group(1).strip()]
