"""`quadiv score`: score the quality of every row with heuristic rules, models or an LLM judge."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from quadiv import io
from quadiv.cli import _common
from quadiv.errors import UsageError


def score_command(
    input: Path = typer.Argument(..., help="JSONL, JSON, CSV, Parquet or a saved HF dataset directory."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the rows with their scores."),
    scorer: str = typer.Option("heuristic", "--scorer", "-s",
                               help="Comma-separated scorers: heuristic, rm:<dir>, judge:<model>, ... "
                                    "(see `quadiv methods`)."),
    param: list[str] = typer.Option([], "--param", "-p",
                                    help="Scorer parameter NAME=VALUE, or SCORER.NAME=VALUE for one scorer."),
    combine: str | None = typer.Option(
        None, "--combine", help="Also write 'combined_quality': normalise each score (rank, zscore, minmax, "
        "none) and average them."),
    aggregate: str = typer.Option("mean", "--aggregate", help="How --combine joins the scores: mean, product, min."),
    weights: str | None = typer.Option(None, "--weights", help="With --combine: COLUMN=W,... for a weighted mean."),
    combine_nan: str = typer.Option("error", "--combine-nan",
                                    help="With --combine, a missing score: error, or skip (join the known ones)."),
    field: str | None = _common.FIELD,
    instruction_field: str | None = _common.INSTRUCTION,
    reference_field: str | None = typer.Option(None, "--reference-field",
                                               help="Column of reference responses (the pairwise judge)."),
    group_field: str | None = typer.Option(None, "--group-field", "-g",
                                           help="With --combine: normalise within each group of this column."),
    engine: str | None = _common.ENGINE,
    address: str | None = _common.ADDRESS,
    as_json: bool = _common.JSON,
    quiet: bool = _common.QUIET,
) -> None:
    """Score every row's quality; write the input rows plus one column per scorer."""
    from quadiv.quality import build_scorers, score_pool, scored_columns, summarize, with_columns

    _common.check_output(output, (input,))
    where = _common.open_engine(engine, address)
    scorers = build_scorers(scorer, _common.parse_params(param))
    extra = (instruction_field, reference_field, group_field)
    pool = _common.load_pool(input, field, None, None, extra, whole_rows=True)
    io.check_writable(pool.table.schema, output)
    with _common.progress("scoring", len(pool) * len(scorers), quiet) as advance:
        results = score_pool(pool, scorers, instruction_field=instruction_field, reference_field=reference_field,
                             progress=lambda label, total: _common.counting(advance),
                             engine=_common.remote(where))
    columns = scored_columns(results)
    if combine is not None:
        from quadiv.quality import combine as combine_scores

        groups = pool.labels(group_field) if group_field else None
        columns["combined_quality"] = combine_scores(
            {r.column: r.scores.values for r in results}, normalize=combine, groups=groups,
            aggregate="weighted" if weights else aggregate, weights=_weights(weights) if weights else None,
            nan=combine_nan, directions={r.column: r.scorer.higher_is_better for r in results}, path=str(input))
    io.write(with_columns(pool.table, columns), str(output))
    summary = {"n": len(pool), "field": pool.field, "output": str(output), "scores": summarize(results)}
    if combine is not None:
        summary["combined_quality"] = {"normalize": combine, "aggregate": "weighted" if weights else aggregate,
                                       "nan": combine_nan, "by_group": group_field}
    if as_json:
        print(json.dumps(_common.finite(summary)))
    else:
        _print_summary(summary)


def _weights(text: str) -> dict[str, float]:
    """'judge=2,heuristic=1' -> {'judge': 2.0, 'heuristic': 1.0}."""
    out = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = pair.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--weights takes COLUMN=NUMBER pairs, got '{pair}'") from None
    return out


def _print_summary(summary: dict) -> None:
    from rich.table import Table

    table = Table()
    for column in ("column", "scorer", "scored", "NaN", "mean", "flags"):
        table.add_column(column, justify="left" if column in ("column", "scorer", "flags") else "right")
    for column, entry in summary["scores"].items():
        flags = ", ".join(f"{k} {v}" for k, v in entry.get("true_counts", {}).items())
        table.add_row(column, entry["scorer"], str(entry["scored"]), str(entry["nan"]), _common.fmt(entry["mean"]),
                      flags)
    out = _common.console()
    out.print(f"scored {summary['n']} rows (field {summary['field']}) -> {summary['output']}", highlight=False)
    out.print(table)
    if "combined_quality" in summary:
        how = summary["combined_quality"]
        out.print(f"combined_quality: {how['normalize']} per column"
                  f"{' within ' + how['by_group'] if how['by_group'] else ''}, then {how['aggregate']}", highlight=False)
