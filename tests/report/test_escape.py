"""script_json and plain: JSON that no value can break out of, read back unchanged."""
import json
import math
import random

import numpy as np

from quadiv.report import script_json
from quadiv.report._escape import plain

FORBIDDEN = ("<", ">", "&", "\u2028", "\u2029")


def test_hostile_strings_are_escaped_and_round_trip(sample):
    obj = {p: [p, {"k": p}] for p in sample.payloads}
    text = script_json(obj)
    assert not any(ch in text for ch in FORBIDDEN)
    assert "\\u003c/script\\u003e" in text
    assert json.loads(text) == obj


def test_random_strings_round_trip():
    rng = random.Random(0)
    alphabet = "<>&/\\\"' \u2028\u2029\n\t\x00é漢😀abc-!["
    for _ in range(200):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        text = script_json({s: s})
        assert not any(ch in text for ch in FORBIDDEN)
        assert json.loads(text) == {s: s}


def test_plain_converts_numpy_and_non_finite_numbers():
    obj = {1: np.float32(0.5), "a": np.arange(3), "b": (np.int64(2), math.nan), "c": [math.inf, -math.inf],
           "d": np.array([[1.0, np.nan]]), "e": np.bool_(True), "f": None}
    assert plain(obj) == {"1": 0.5, "a": [0, 1, 2], "b": [2, None], "c": [None, None], "d": [[1.0, None]],
                          "e": True, "f": None}
    json.loads(script_json(obj))  # valid JSON: no NaN or Infinity tokens
