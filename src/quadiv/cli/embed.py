"""`quadiv embed`: embed a whole pool once into resumable Parquet shards for later commands."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from quadiv.cli import _common


def embed_command(
    input: Path = typer.Argument(..., help="JSONL, JSON, CSV, Parquet or a saved HF dataset directory."),
    output: Path = typer.Option(..., "--output", "-o",
                                help="Directory of (row, id, key, embedding) Parquet shards; rerun to resume."),
    field: str | None = _common.FIELD,
    embedder: str = _common.EMBEDDER,
    base_url: str | None = _common.BASE_URL,
    instruction_field: str | None = typer.Option(
        None, "--instruction-field", help="Column of each text's prompt, for an embedder that takes one (grad:)."),
    shard_rows: int = typer.Option(100_000, "--shard-rows", help="Input rows per shard (one file, one task each)."),
    engine: str | None = _common.ENGINE,
    address: str | None = _common.ADDRESS,
    as_json: bool = _common.JSON,
    quiet: bool = _common.QUIET,
) -> None:
    """Embed every row into Parquet shards with completion markers; give the directory to --embeddings."""
    from quadiv.embed import embed_to_shards

    _common.check_output(output, (input,))
    where = _common.open_engine(engine, address)
    pool = _common.load_pool(input, field, None, None, (instruction_field,))
    model = _common.ready_embedder(embedder, base_url, quiet)
    texts = _common.texts_to_embed(pool, model, instruction_field)
    with _common.progress(f"embedding ({embedder})", len(texts), quiet) as advance:
        summary = embed_to_shards(texts, pool.table.column("id"), model, output, field=pool.field,
                                  instruction_field=instruction_field, shard_rows=shard_rows,
                                  engine=_common.remote(where), progress=_common.counting(advance))
    if as_json:
        print(json.dumps(summary))
        return
    kept = f", {summary['skipped_shards']} already done" if summary["skipped_shards"] else ""
    _common.console().print(
        f"embedded {summary['rows']} rows (field {pool.field}) with {summary['embedder']} into {summary['shards']} "
        f"shards{kept} -> {output}/ (use it with --embeddings {output})", highlight=False)
