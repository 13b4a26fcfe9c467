"""The one way quadiv opens its on-disk caches: SQLite in WAL mode, safe for several processes at once."""
from __future__ import annotations

import sqlite3
from pathlib import Path


def open_cache(path: Path, *tables: str) -> sqlite3.Connection:
    """A connection to the cache at ``path`` (its folder created), each ``CREATE TABLE IF NOT EXISTS`` run.

    WAL journal and synchronous=NORMAL: readers never block the writer, a killed run keeps what it committed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=60.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for table in tables:
        db.execute(f"CREATE TABLE IF NOT EXISTS {table}")
    db.commit()
    return db
