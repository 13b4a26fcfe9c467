"""`quadiv report`: a saved JSON result or search archive as one self-contained HTML page."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from quadiv.cli import _common


def report_command(
    result: Path = typer.Argument(..., help="A JSON result of `front`, `select --json` or `measure --json`, or "
                                  "the ARCHIVE.jsonl of `search` (its ARCHIVE.search.json beside it) or that "
                                  ".search.json."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the HTML page."),
    png: Path | None = _common.PNG,
) -> None:
    """Turn a saved JSON result or search archive into one self-contained HTML page (and PNG figures)."""
    from quadiv.report import report_file, say_written

    written, notes = report_file(result, output, png)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    say_written(written, sys.stdout)
