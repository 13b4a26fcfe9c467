"""Report fixtures: the three result kinds and row panels, with hostile text in every data string."""
from types import SimpleNamespace

import numpy as np
import pytest

from quadiv.report import group_rows, map_rows

# Each payload would change document.title or add a <quadiv-pwned> element if it ever ran.
PAYLOADS = [
    '<script>document.title="PWNED"</script>',
    '<img src=x onerror="document.title=\'PWNED\';document.body.appendChild(document.createElement(\'quadiv-pwned\'))">',
    "</script><script>document.body.appendChild(document.createElement('quadiv-pwned'))</script>",
    '"><svg onload="document.title=\'PWNED\'"><quadiv-pwned>',
    "' onmouseover='document.title=1' x='",
    "<!-- \u2028 \u2029 & &amp; <![CDATA[",
]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: renders reports in headless Chromium (Debian package `chromium`); "
                   "deselect with -m 'not browser'")


def front_result() -> dict:
    rng = np.random.default_rng(0)
    points = []
    for m, method in enumerate(["facility-location", PAYLOADS[0], PAYLOADS[2]]):
        for t in np.linspace(0, 1, 5):
            points.append({"method": method, "params": {"tradeoff": float(t), "note": PAYLOADS[1]},
                           "metrics": {"vendi": float(10 + 20 * t + m), "quality_mean": float(0.9 - 0.5 * t + rng.uniform(0, .05)),
                                       PAYLOADS[3]: 1.0},
                           "pareto": m == 0})
    points.append({"method": "mmr", "params": {}, "metrics": {"vendi": float("nan"), "quality_mean": 0.5},
                   "pareto": False})
    return {"objectives": {"vendi": "max", "quality_mean": "max"}, "points": points,
            "hypervolume": {"reference": [0.0, 0.0], "value": 12.5}, "knee": 2}


def select_result() -> dict:
    return {"method": PAYLOADS[4], "budget": 40, "selected": 40, "objective": 3.25, "tradeoff": 0.5,
            "embedder": PAYLOADS[0], "output": "out.jsonl",
            "metrics": {"before": {"vendi": 30.0, "quality_mean": 0.5}, "after": {"vendi": 20.0, "quality_mean": 0.7}}}


def measure_result() -> dict:
    return {"n": 300, "embedder": "static", "field": PAYLOADS[1],
            "metrics": {"vendi": 12.0, "quality_mean": 0.6, "harmony_quality": 0.97},
            "groups": {"a": {"n": 100, "vendi": 5.0, "quality_mean": 0.7},
                       PAYLOADS[0]: {"n": 120, "vendi": 6.0, "quality_mean": 0.4},
                       PAYLOADS[3]: {"n": 80, "vendi": 4.0, "quality_mean": 0.65}},
            "worst_group": PAYLOADS[0]}


def full_rows(n: int = 300, budget: int = 40) -> dict:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 8))
    chosen = rng.choice(n, budget, replace=False)
    labels = np.array(["a", PAYLOADS[1], PAYLOADS[2], PAYLOADS[3]])[rng.integers(0, 4, n)]
    quality = rng.uniform(0, 1, n)
    return {"quality_before": quality.tolist(), "quality_after": quality[chosen].tolist(),
            "groups": group_rows(labels, quality, chosen), "map": map_rows(X, chosen, labels),
            "chosen_rows": [{"id": i, "text": p * 30} for i, p in enumerate(PAYLOADS)],
            "rejected_rows": [{"id": i, p: p} for i, p in enumerate(PAYLOADS)]}


def two_budget_front(payload: str = "quality_mean") -> dict:
    """Two methods x two budgets x three tradeoffs; at tradeoff 1 each budget's two methods tie."""
    points = []
    for budget in (5, 10):
        for method in ("facility-location", "mmr"):
            for t in (0.0, 0.5, 1.0):
                tie = t == 1.0
                points.append({"method": method, "params": {"tradeoff": t, "budget": budget},
                               "metrics": {payload: 0.9 + budget if tie else t + budget + (method == "mmr"),
                                           "vendi": 3.0 if tie else 10 - t - budget},
                               "pareto": tie})
    return {"objectives": {payload: "max", "vendi": "max"}, "points": points, "knee": 2}


@pytest.fixture(scope="session")
def sample() -> SimpleNamespace:
    """Builders of fresh inputs (results, rows) and the hostile strings they carry."""
    return SimpleNamespace(payloads=PAYLOADS, front=front_result, select=select_result, measure=measure_result,
                           budgets=two_budget_front, rows=full_rows)
