"""Prompts for generation: read from a pool file or a text file, turned into chat messages."""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from quadiv.errors import InputError


@dataclass(frozen=True)
class Prompt:
    """One prompt and its id (the input's ``id`` or, for a .txt file, the 1-based line number)."""

    id: int | str
    text: str


def load_prompts(path: str | os.PathLike, field: str = "prompt") -> list[Prompt]:
    """Prompts from a .txt file (one per non-blank line, id = line number) or any pool file.

    A pool file (JSONL, JSON, CSV, Parquet, HF dataset dir) gives ``id`` and the text of ``field``
    (a column or a template such as ``"{instruction}\\n\\n{input}"``). Empty prompts and repeated
    ids are InputErrors naming the row.
    """
    path = Path(path)
    if path.suffix.lower() == ".txt":
        prompts = _read_txt(path)
    else:
        from quadiv import io

        table = io.read(path)
        texts = io.render_texts(table, field, path=str(path))
        prompts = [Prompt(i, t) for i, t in zip(table.column("id").to_pylist(), texts)]
    _check(prompts, str(path))
    return prompts


def _read_txt(path: Path) -> list[Prompt]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError("file not found", path=str(path), fix="check the path") from None
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text ({err.reason} at byte {err.start})", path=str(path),
                         fix="save the prompts as UTF-8") from None
    prompts = [Prompt(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    if not prompts:
        raise InputError("no prompts (every line is blank)", path=str(path), fix="write one prompt per line")
    return prompts


def _check(prompts: Sequence[Prompt], path: str) -> None:
    from quadiv.io import row_at

    seen: dict[int | str, int] = {}
    for row, prompt in enumerate(prompts):
        if not prompt.text.strip():
            raise InputError(f"{row_at(path, row)} (id {prompt.id}): the prompt is empty", path=path,
                             fix="give every row a prompt or remove the row")
        if prompt.id in seen:
            rows = f"{row_at(path, seen[prompt.id])} and {row_at(path, row)}"
            raise InputError(f"{rows} share the id {prompt.id!r}", path=path, fix="give every prompt its own id")
        seen[prompt.id] = row


def fingerprint(prompts: Sequence[Prompt]) -> str:
    """SHA-256 over the (id, text) pairs in order: a journal belongs to exactly these prompts."""
    digest = hashlib.sha256()
    for prompt in prompts:
        digest.update(json.dumps([prompt.id, prompt.text], ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def chat_messages(prompt: str, system: str | None = None) -> list[dict[str, str]]:
    """The chat messages of a single-turn request: an optional system message, then the user prompt."""
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [{"role": "user", "content": prompt}]
