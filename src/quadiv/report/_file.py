"""`report_file`: the report of a saved result JSON, every problem named with the file it is in."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TextIO

from quadiv.errors import InputError, UsageError
from quadiv.report._build import build_report
from quadiv.report._data import ACCEPTED, detect_kind, missing_panels


def check_report_paths(output: str | os.PathLike | None, png_dir: str | os.PathLike | None = None,
                       inputs: tuple[str | os.PathLike, ...] = ()) -> None:
    """Refuse, before any work, a page path that is one of `inputs` (the command's other files) or lies in
    no folder, a --png that is a file, and a --png without a page (`output` None)."""
    if output is None:
        if png_dir is not None:
            raise UsageError("`png` draws the figures of the report: give `report` PAGE.html too")
        return
    out = Path(output)
    if out.is_dir():
        raise UsageError(f"{out} is a folder: give the path of the HTML page to write")
    if not out.parent.is_dir():
        raise UsageError(f"the folder of {out} does not exist: create it or choose another path for the report")
    for source in map(Path, inputs):
        if out.resolve() == source.resolve():
            raise UsageError(f"the report path {out} is the same file as {source}, which this command reads or "
                             "writes: choose another path for the report")
    if png_dir is not None and Path(png_dir).exists() and not Path(png_dir).is_dir():
        raise UsageError(f"`png` {png_dir} is a file: give a folder for the PNG figures")


def report_file(path: str | os.PathLike, output: str | os.PathLike,
                png_dir: str | os.PathLike | None = None) -> tuple[list[str], list[str]]:
    """Write the report of the result JSON at `path`; return (the paths written, notes for the user).

    The notes say which panels the result alone cannot draw (:func:`missing_panels`) and, with
    `png_dir`, when there is no figure to write.
    """
    check_report_paths(output, png_dir, (path,))
    result = _read(Path(path))
    try:
        kind = detect_kind(result)
        written = build_report(result, output, kind=kind, png_dir=png_dir)
    except InputError as err:
        if err.path is not None:
            raise
        raise InputError(str(err), path=os.fspath(path)) from None
    notes = missing_panels(result, kind, None)
    if png_dir is not None and len(written) == 1:
        notes.append(f"no PNG figures: a {kind} result alone has no chart that a figure draws; nothing written "
                     f"to {png_dir}")
    return written, notes


def _read(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", path=str(path), fix="check the path") from None
    except IsADirectoryError:
        raise InputError("is a folder, not a result JSON", path=str(path), fix=f"pass {ACCEPTED}") from None
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text (byte {err.start + 1})", path=str(path), fix=f"pass {ACCEPTED}") from None
    except OSError as err:
        raise InputError(f"cannot be read ({err.strerror})", path=str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON (line {err.lineno}: {err.msg})", path=str(path),
                         fix=f"pass {ACCEPTED}") from None
    except ValueError:  # an integer with more digits than Python converts
        raise InputError("holds an integer too long to read", path=str(path), fix=f"pass {ACCEPTED}") from None
    except RecursionError:
        raise InputError("JSON nested too deeply", path=str(path), fix=f"pass {ACCEPTED}") from None


def say_written(paths: list[str], stream: TextIO | None = None) -> None:
    """One line ``wrote PATH`` per file written, on `stream` (stderr by default: --json owns stdout)."""
    for path in paths:
        print(f"wrote {path}", file=stream or sys.stderr)
