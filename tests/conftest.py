"""Shared test set-up: everything offline; the shared real data (CI always has ../shared)."""
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ALPACA = SHARED_DATA / "alpaca_eval_outputs.jsonl"


@pytest.fixture(scope="session")
def alpaca_path() -> Path:
    """The shared AlpacaEval answers (CI always has ../shared); skip with a reason elsewhere."""
    if not ALPACA.exists():
        pytest.skip(f"shared data not found at {ALPACA}: clone the project beside ../shared")
    return ALPACA


@pytest.fixture(scope="session")
def alpaca_rows(alpaca_path: Path) -> list[dict]:
    """The 8,050 AlpacaEval rows as dicts."""
    with alpaca_path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]
