"""A private, empty embedding cache for every embed test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own empty QUADIV_CACHE."""
    monkeypatch.setenv("QUADIV_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
