"""Shared fixtures: a private cache dir per test, real sentences from the shared AlpacaEval file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ALPACA = Path(__file__).resolve().parents[3] / "shared" / "data" / "alpaca_eval_outputs.jsonl"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own empty QUADIV_CACHE."""
    monkeypatch.setenv("QUADIV_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def alpaca_rows() -> list[dict]:
    """The AlpacaEval outputs, or a skip when the shared data are absent."""
    if not ALPACA.is_file():
        pytest.skip(f"real data {ALPACA} is absent (CI always has it)")
    with ALPACA.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]
