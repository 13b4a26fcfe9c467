"""`quadiv dedup`: remove exact, near and semantic duplicates."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from quadiv import io
from quadiv.cli import _common


@_common.with_options(quality=False)
def dedup_command(
    input: Path = typer.Argument(..., help="JSONL, JSON, CSV, Parquet or a saved HF dataset directory."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the kept rows (format by extension)."),
    minhash: float | None = typer.Option(
        None, "--minhash", help="Also drop near-duplicates: MinHash-LSH Jaccard threshold, e.g. 0.8."),
    semantic: float | None = typer.Option(
        None, "--semantic", help="Also drop semantic duplicates (SemDeDup): cosine threshold, e.g. 0.95."),
    removed_path: Path | None = typer.Option(
        None, "--removed", help="Also write the removed rows, with columns duplicate_of (id of the kept row) and stage."),
    field: str | None = _common.FIELD,
    group_field: str | None = typer.Option(
        None, "--group-field", "-g", help="Column of group labels: duplicates only within a group (e.g. per question)."),
    quality_field: str | None = _common.QUALITY,
    engine: str | None = _common.ENGINE,
    address: str | None = _common.ADDRESS,
    options: _common.Options = None,
) -> None:
    """Remove exact, near and semantic duplicates, keeping the best item of each duplicate group."""
    from quadiv.select import dedup as run_dedup

    _common.check_output(output, (input,))
    where = _common.open_engine(engine, address)
    if removed_path is not None:
        _common.check_output(removed_path, (input,), "--removed",
                     [(output, "the --output file: give the removed rows a file of their own")])
    _, embedding, run = options
    seed, quiet = run.seed, run.quiet
    pool = _common.load_pool(input, field, group_field, quality_field, (embedding.embedding_field,), whole_rows=True)
    for path in (output, removed_path):
        if path is not None:
            io.check_writable(pool.table.schema, path)
    X = None
    if semantic is not None:
        X, _ = embedding.load(pool, quiet, engine=where)
    quality = pool.floats(quality_field) if quality_field else None
    groups = pool.labels(group_field) if group_field else None
    with _common.progress("removing duplicates", None, quiet):
        result = run_dedup(pool.texts, X, quality, minhash_threshold=minhash, semantic_threshold=semantic,
                           groups=groups, seed=seed, engine=where)
    io.write(pool.take(result.keep), str(output))
    summary = {"n": len(pool), "kept": int(result.keep.size), "removed": result.removed, "output": str(output)}
    if removed_path is not None:
        io.write(_removed_rows(pool, result), str(removed_path))
        summary["removed_rows"] = str(removed_path)
    if run.as_json:
        print(json.dumps(summary))
    else:
        removed = ", ".join(f"{stage} {count}" for stage, count in result.removed.items())
        also = f"; removed rows -> {removed_path}" if removed_path is not None else ""
        _common.console().print(f"kept {summary['kept']} of {summary['n']} rows -> {output} (removed: {removed}){also}",
                        highlight=False)


def _removed_rows(pool, result):
    """The removed rows plus ``duplicate_of`` (the id of the kept row each duplicates) and ``stage``."""
    import pyarrow as pa

    dropped = result.dropped
    ids = pool.table["id"].take(result.cluster_of[dropped])  # the reader gives every pool an id
    table = pool.take(dropped)
    table = table.drop_columns([c for c in ("duplicate_of", "stage") if c in table.column_names])
    stages = pa.array(result.stage_of[dropped].tolist(), pa.string())
    return table.append_column("duplicate_of", ids).append_column("stage", stages)
