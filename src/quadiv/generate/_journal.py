"""An append-only JSONL journal of finished rows, so a killed generation run resumes where it stopped.

Line 1 is a header holding the run's settings; every further line is one finished output row. Each
append is written and flushed at once (a killed process loses only rows still being generated) and
fsynced in batches (every ``sync_rows`` rows or ``sync_seconds``, and on close), so a crashed
machine loses at most the last batch. A torn last line, from a kill in the middle of a write, is
dropped and cut off on resume.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from quadiv.errors import InputError, UsageError
from quadiv.io import sync_directory

_MAGIC = "quadiv-generate-journal"


def journal_path(output: str | os.PathLike) -> Path:
    """Where the journal of a run writing ``output`` lives: beside it, ``output + '.journal'``."""
    return Path(str(output) + ".journal")


def generation_key(row: Any) -> tuple[Any, int]:
    """A generation row's key, (prompt_id, sample); ValueError for a row that is not a finished one."""
    if not isinstance(row, dict) or not isinstance(row.get("sample"), int) or "prompt_id" not in row \
            or not isinstance(row.get("text"), str) or not row["text"].strip():
        raise ValueError("is not a finished row (prompt_id, sample, non-empty text)")
    return row["prompt_id"], row["sample"]


class Journal:
    """Append rows; ``done`` holds the key of every row recorded so far.

    ``key(row)`` names a row (generation: :func:`generation_key`; a search: its iteration) and raises
    ValueError, saying what is wrong, for a row that is not a finished one.
    """

    def __init__(self, path: Path, handle, done: set, sync_rows: int, sync_seconds: float,
                 key: Callable[[Any], Any] = generation_key):
        self.path, self.done, self._key = path, done, key
        self._handle, self._sync_rows, self._sync_seconds = handle, sync_rows, sync_seconds
        self._unsynced, self._synced_at = 0, time.monotonic()

    @classmethod
    def open(cls, path: str | os.PathLike, settings: dict[str, Any], resume: bool, *,
             sync_rows: int = 256, sync_seconds: float = 1.0, key: Callable[[Any], Any] = generation_key) -> Journal:
        """Start a journal, or with ``resume`` continue one written with the same ``settings``.

        A journal without a row (a run that failed before its first row) is no run: it is replaced.
        """
        path = Path(path)
        if path.exists():
            good_bytes, header, rows = _read(path, key)
            if rows and not resume:
                raise UsageError(f"{path} holds the finished rows of an earlier run that stopped: pass `resume` "
                                 "to continue it, or delete that file to start again")
            if rows:
                _check_settings(path, header, settings)
                handle = open(path, "r+b")  # noqa: SIM115 (kept open across appends)
                handle.truncate(good_bytes)
                handle.seek(good_bytes)
                return cls(path, handle, set(rows), sync_rows, sync_seconds, key)
        handle = open(path, "wb")  # noqa: SIM115 (kept open across appends)
        handle.write(_line({"journal": _MAGIC, "settings": settings}))
        handle.flush()
        os.fsync(handle.fileno())
        sync_directory(path.parent)
        return cls(path, handle, set(), sync_rows, sync_seconds, key)

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        """Record finished rows: written and flushed now, fsynced when the batch is due."""
        data = b""
        for row in rows:
            key = self._key(row)
            if key in self.done:
                raise RuntimeError(f"row {key} is already in the journal {self.path}")
            self.done.add(key)
            data += _line(row)
            self._unsynced += 1
        self._handle.write(data)
        self._handle.flush()
        if self._unsynced >= self._sync_rows or time.monotonic() - self._synced_at >= self._sync_seconds:
            self.sync()

    def sync(self) -> None:
        os.fsync(self._handle.fileno())
        self._unsynced, self._synced_at = 0, time.monotonic()

    def rows(self) -> dict[Any, dict[str, Any]]:
        """Every recorded row as read back from the file, by key, in the order written."""
        self._handle.flush()
        return _read(self.path, self._key)[2]

    def close(self) -> None:
        if not self._handle.closed:
            self.sync()
            self._handle.close()

    def remove(self) -> None:
        """Close and delete the journal (after the output was written)."""
        self.close()
        self.path.unlink()
        sync_directory(self.path.parent)


def _line(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, default=_plain) + "\n").encode("utf-8")


def _plain(value: Any) -> Any:
    """JSON for values json cannot write: numpy scalars and arrays as numbers and lists, the rest as text."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


def _read(path: Path, key: Callable[[Any], Any]) -> tuple[int, dict | None, dict[Any, dict]]:
    """(bytes up to the last whole line, header settings or None, rows); a torn last line is dropped."""
    lines = path.read_bytes().split(b"\n")[:-1]  # what follows the last newline is torn or empty
    good, header, rows = 0, None, {}
    for number, raw in enumerate(lines, start=1):
        try:
            obj = json.loads(raw)
        except ValueError:
            if number == len(lines):  # a last line garbled by a crash counts as torn
                break
            raise InputError(f"line {number} is not valid JSON", path=str(path),
                             fix="the journal is damaged: delete it and start again") from None
        if number == 1:
            if not isinstance(obj, dict) or obj.get("journal") != _MAGIC:
                raise InputError("line 1 is not a quadiv generate journal header", path=str(path),
                                 fix="this file is not a quadiv journal: move it away or delete it")
            header = obj["settings"]
        else:
            try:
                rows.setdefault(key(obj), obj)
            except ValueError as err:
                raise InputError(f"line {number} {err}", path=str(path),
                                 fix="the journal is damaged: delete it and start again") from None
        good += len(raw) + 1
    return good, header, rows



def _check_settings(path: Path, recorded: dict[str, Any], settings: dict[str, Any]) -> None:
    changed = sorted(k for k in settings.keys() | recorded.keys() if recorded.get(k) != settings.get(k))
    if changed:
        shown = ", ".join(f"{k}: {recorded.get(k)!r} then, {settings.get(k)!r} now" for k in changed)
        raise UsageError(f"{path} was written by a run with other settings ({shown}); resume with the same "
                         "prompts, strategy, parameters, model, n and seed, or delete the journal to start again")
