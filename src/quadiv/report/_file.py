"""`report_file`: the report of a saved result JSON or search archive, every problem named with the file it is in."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TextIO

from quadiv.errors import InputError, UsageError
from quadiv.report._build import build_report
from quadiv.report._data import ACCEPTED, check_elite, detect_kind, json_type, missing_panels, search_axes

SIDECAR = ".search.json"


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
    """Write the report of the result JSON at `path`, or of the search archive ARCHIVE.jsonl or its
    ARCHIVE.search.json (:func:`read_search`); return (the paths written, notes for the user).

    The notes say which panels the result alone cannot draw (:func:`missing_panels`) and, with
    `png_dir`, when there is no figure to write.
    """
    check_report_paths(output, png_dir, (path,))
    source = Path(path)
    if source.suffix == ".jsonl" or source.name.endswith(SIDECAR):
        sidecar, archive, source = _search_files(source)
        check_report_paths(output, png_dir, (archive, source))
        result = _search_result(sidecar, archive, source)
    else:
        result = _read(source)
    try:
        kind = detect_kind(result)
        written = build_report(result, output, kind=kind, png_dir=png_dir)
    except InputError as err:
        if err.path is not None:
            raise
        raise InputError(str(err), path=os.fspath(source)) from None
    notes = missing_panels(result, kind, None)
    if png_dir is not None and len(written) == 1:
        notes.append(f"no PNG figures: a {kind} result alone has no chart that a figure draws; nothing written "
                     f"to {png_dir}")
    return written, notes


def read_search(path: str | os.PathLike) -> dict:
    """The search result that `quadiv search` saved: given ARCHIVE.jsonl (its sidecar ARCHIVE.search.json
    beside it) or the sidecar itself (which names its archive), the sidecar's object with the archive's
    elites, one per line, under "elites"; ``build_report(result, path, kind="search")`` draws it.

    Every problem is an InputError naming the file (and line) and the fix.
    """
    return _read_search(Path(path))


def _read_search(path: Path) -> dict:
    sidecar, archive, sidecar_path = _search_files(path)
    return _search_result(sidecar, archive, sidecar_path)


def _search_files(path: Path) -> tuple[dict, Path, Path]:
    """(the checked sidecar, the archive's path, the sidecar's path) of ARCHIVE.jsonl or ARCHIVE.search.json."""
    if path.name.endswith(SIDECAR):
        sidecar = _sidecar(path)
        name = sidecar.get("archive")
        if not isinstance(name, str) or not name:
            raise InputError("needs 'archive', the file name of its archive (a string)", path=str(path),
                             fix="pass the ARCHIVE.search.json that `quadiv search` wrote, or its ARCHIVE.jsonl")
        if not (path.parent / name).is_file():
            raise InputError(f"its archive {name} is not beside it ({path.parent / name} not found)", path=str(path),
                             fix="keep the archive that `quadiv search` wrote next to its .search.json")
        return sidecar, path.parent / name, path
    sidecar_path = path.with_suffix(SIDECAR)
    if not sidecar_path.is_file():
        _read_text(path)  # a missing or unreadable archive is named first
        raise InputError(f"a .jsonl is read as a search archive, and its sidecar {sidecar_path.name} is not "
                         "beside it", path=str(path),
                         fix=f"keep the {SIDECAR} that `quadiv search` wrote next to its archive, or pass {ACCEPTED}")
    return _sidecar(sidecar_path), path, sidecar_path


def _search_result(sidecar: dict, archive: Path, sidecar_path: Path) -> dict:
    try:
        axes = search_axes(sidecar)
    except InputError as err:
        raise InputError(str(err), path=str(sidecar_path)) from None
    return {**sidecar, "elites": _elites(archive, _read_text(archive), axes)}


def _sidecar(path: Path) -> dict:
    sidecar = _read(path)
    if not isinstance(sidecar, dict) or sidecar.get("kind") != "search":
        what = (f"its 'kind' is {sidecar.get('kind')!r:.40}, not 'search'" if isinstance(sidecar, dict)
                else f"a JSON {json_type(sidecar)}, not an object")
        raise InputError(f"not the sidecar of a search archive: {what}", path=str(path),
                         fix="pass the ARCHIVE.search.json that `quadiv search` wrote, or its ARCHIVE.jsonl")
    return sidecar


def _elites(path: Path, text: str, axes: list[dict]) -> list:
    """The archive's lines as objects, each checked (:func:`check_elite`); blank lines are skipped."""
    fix = "fix or remove that line: each line of a search archive is one elite as a JSON object"
    elites = []
    for number, line in enumerate(text.split("\n"), 1):  # not splitlines(): U+2028 may sit inside a string
        if not line.strip():
            continue
        try:
            elite = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"line {number}: not valid JSON ({err.msg})", path=str(path), fix=fix) from None
        except (ValueError, RecursionError):
            raise InputError(f"line {number}: JSON too long or too deeply nested", path=str(path), fix=fix) from None
        try:
            check_elite(elite, axes)
        except InputError as err:
            raise InputError(f"line {number}: {err}", path=str(path), fix=fix) from None
        elites.append(elite)
    return elites


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", path=str(path), fix="check the path") from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", path=str(path), fix=f"pass {ACCEPTED}") from None
    except UnicodeDecodeError as err:
        raise InputError(f"not UTF-8 text (byte {err.start + 1})", path=str(path), fix=f"pass {ACCEPTED}") from None
    except OSError as err:
        raise InputError(f"cannot be read ({err.strerror})", path=str(path)) from None


def _read(path: Path) -> object:
    text = _read_text(path)
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
