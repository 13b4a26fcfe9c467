"""Report fixtures: the four result kinds and row panels, with hostile text in every data string."""
import json
from pathlib import Path
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


# (genre index, length index, fitness) per elite: 5 of the 3 x 4 cells filled, cell (0, 0) with three elites.
SEARCH_ELITES = [(0, 0, 0.5), (0, 0, 0.9), (0, 0, 0.7), (1, 2, 0.3), (2, 3, 0.95), (1, 0, 0.1), (2, 1, 0.6)]


def search_result() -> dict:
    """A map-elites search as `quadiv search` saves it (sidecar + "elites"), hostile text in every string."""
    axes = [{"name": "genre " + PAYLOADS[3], "labels": ["horror", PAYLOADS[0], "drama"]},
            {"name": "length", "labels": ["0.00-0.20", "0.20-0.50", PAYLOADS[2], "0.80-1.00"]}]
    elites = [{"id": f"{i}-0", "text": f"{PAYLOADS[i % len(PAYLOADS)]} elite {i}",
               "cell": [axes[0]["labels"][a], axes[1]["labels"][b]], "cell_index": [a, b], "fitness": fitness,
               "descriptors": [axes[0]["labels"][a], 0.1 + 0.25 * b], "parent": None if i < 2 else PAYLOADS[1],
               "iteration": i, "response": PAYLOADS[(i + 1) % len(PAYLOADS)]}
              for i, (a, b, fitness) in enumerate(SEARCH_ELITES)]
    history = [{"iteration": k, "evaluations": 8 * k, "calls": 9 * k, "qd_score": 0.6 * k, "coverage": k / 24,
                "num_elites": k, "best": 0.95, "mean": 0.5} for k in range(1, 11)]
    return {"kind": "search", "algorithm": PAYLOADS[4], "archive": "archive.jsonl", "axes": axes, "num_cells": 12,
            "budget": 80, "seed": 3, "elites": elites, "history": history,
            "stats": {"qd_score": 4.0, "coverage": 5 / 12, "num_elites": 7, "best": 0.95, "mean": 0.58}}


def write_search(folder: Path, result: dict, name: str = "archive") -> Path:
    """Write `result` as `quadiv search` does: NAME.jsonl (one elite a line) and NAME.search.json; return the first."""
    archive = folder / f"{name}.jsonl"
    archive.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in result["elites"]), encoding="utf-8")
    sidecar = {key: value for key, value in result.items() if key != "elites"}
    (folder / f"{name}.search.json").write_text(json.dumps({**sidecar, "archive": archive.name}), encoding="utf-8")
    return archive


@pytest.fixture(scope="session")
def sample() -> SimpleNamespace:
    """Builders of fresh inputs (results, rows, search archives) and the hostile strings they carry."""
    return SimpleNamespace(payloads=PAYLOADS, front=front_result, select=select_result, measure=measure_result,
                           budgets=two_budget_front, rows=full_rows, search=search_result, write_search=write_search,
                           search_elites=SEARCH_ELITES)
