"""The `quadiv` command line: thin Typer commands over the Python API.

Every command prints a table by default and exactly one JSON object with ``--json``; bad input or
arguments give one line on stderr and exit code 2.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from quadiv import io
from quadiv._cli_common import (
    BASE_URL,
    EMB_FIELD,
    EMBEDDER,
    EMBEDDINGS,
    FIELD,
    GROUP,
    JSON,
    PNG,
    QUALITY,
    QUALITY_MISSING,
    QUIET,
    REPORT,
    SEED,
    console,
    fail,
    finite,
    fmt,
    load_embeddings_for,
    load_pool,
    parse_params,
    pool_quality,
    progress,
)
from quadiv.errors import QuadivError, UsageError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Measure and control the quality-diversity trade-off of ML data and model outputs.")

def main() -> None:
    """Entry point: run the app; a usage or input error is one line and exit 2, Ctrl-C exit 130.

    Typer's parser errors are recognised by shape (an ``exit_code`` and a ``show()``), not by class:
    typer 0.29 raises its own vendored copy of click's exceptions, older typers raise click's.
    A bug (any other exception) keeps its traceback.
    """
    try:
        code = app(standalone_mode=False, prog_name="quadiv")
    except QuadivError as err:
        fail(str(err))
    except KeyboardInterrupt:
        fail("interrupted; no output was written", code=130)
    except typer.Exit as done:
        raise SystemExit(done.exit_code) from None
    except Exception as err:
        if type(err).__name__ == "Abort":  # typer's or click's Abort: Ctrl-C at a prompt or in the parser
            fail("interrupted; no output was written", code=130)
        if _is_parser_error(err):
            _show_parser_error(err)
        if isinstance(err, OSError) and err.filename:  # a file the command could not read or write
            fail(f"{err.filename}: {err.strerror or err} (check the path and its permissions)")
        raise
    if code == 130:  # typer >= 0.29 turns Ctrl-C into a returned exit code
        fail("interrupted; no output was written", code=130)
    raise SystemExit(code if isinstance(code, int) else 0)


def _is_parser_error(err: BaseException) -> bool:
    return isinstance(getattr(err, "exit_code", None), int) and callable(getattr(err, "show", None))


def _show_parser_error(err) -> None:
    """click's usage line, then one 'error:' line naming the problem and where help is."""
    ctx = getattr(err, "ctx", None)
    if type(err).__name__ == "NoArgsIsHelpError" or not hasattr(err, "format_message"):
        err.show()
        raise SystemExit(err.exit_code)
    if ctx is not None:
        print(ctx.get_usage(), file=sys.stderr)
        fail(f"{err.format_message()} (see '{ctx.command_path} --help')", code=err.exit_code)
    fail(err.format_message(), code=err.exit_code)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"quadiv {version('quadiv')}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Measure and control the quality-diversity trade-off of ML data and model outputs."""


@app.command()
def measure(
    input: Path = typer.Argument(..., help="JSONL, JSON, CSV, Parquet or a saved HF dataset directory."),
    field: str | None = FIELD,
    group_field: str | None = GROUP,
    quality_field: str | None = QUALITY,
    quality_missing: str = QUALITY_MISSING,
    input_field: str | None = typer.Option(
        None, "--input-field", help="Column naming the input (prompt) of each output: per-input diversity."),
    embedder: str = EMBEDDER,
    embeddings: Path | None = EMBEDDINGS,
    embedding_field: str | None = EMB_FIELD,
    base_url: str | None = BASE_URL,
    metrics: str | None = typer.Option(None, "--metrics", help="Comma-separated metric names (see the README's table)."),
    reference: Path | None = typer.Option(
        None, "--reference", help="Reference set (same format and field): precision, recall, density, coverage."),
    k: int = typer.Option(5, "--k", help="Neighbours for the reference-set radii."),
    bootstrap: int = typer.Option(
        0, "--bootstrap", help="Resamples for 95% percentile intervals of each metric, overall and per group "
        "(each resample recomputes the metrics: name a few with --metrics)."),
    report: Path | None = REPORT,
    png: Path | None = PNG,
    seed: int = SEED,
    as_json: bool = JSON,
    quiet: bool = QUIET,
) -> None:
    """How diverse and how good a set is, overall and per group."""
    from quadiv.measure import measure as run_measure
    from quadiv.measure._suite import parse_metrics
    from quadiv.report import check_report_paths

    names = parse_metrics(metrics)
    check_report_paths(report, png, (input,))
    pool = load_pool(input, field, group_field, quality_field, (input_field, embedding_field))
    X, label = load_embeddings_for(pool, embedder, embeddings, embedding_field, base_url, quiet)
    pool, X, quality = pool_quality(pool, X, quality_field, quality_missing)
    texts = pool.texts if pool.field is not None else None
    groups = pool.labels(group_field) if group_field else None
    input_ids = pool.labels(input_field) if input_field else None
    ref_X = None
    if reference is not None:
        ref_pool = load_pool(reference, pool.field, None, None, (embedding_field,))
        ref_X, _ = load_embeddings_for(ref_pool, embedder, None, embedding_field, base_url, quiet)
    with progress("measuring", None, quiet) as advance:
        result = run_measure(X, texts, quality, groups, metrics=names, input_ids=input_ids, reference=ref_X,
                             k=k, seed=seed, progress=advance)
    if bootstrap:
        from quadiv.measure import add_intervals

        with progress("bootstrap", bootstrap * (1 + len(result["groups"])), quiet) as advance:
            add_intervals(result, X, texts, quality, groups, n_resamples=bootstrap, metrics=names, seed=seed,
                          progress=advance)
    result = {"n": result["n"], "embedder": label, "field": pool.field, **result}
    if report is not None:
        from quadiv.report import build_report, group_rows, map_rows, say_written

        rows = {"quality_before": quality.tolist()} if quality is not None else {}
        if groups is not None and quality is not None:
            rows["groups"] = group_rows(groups, quality)
        rows["map"] = map_rows(X, labels=groups, seed=seed)
        say_written(build_report(result, str(report), kind="measure", rows=rows, png_dir=_png_dir(png)))
    if as_json:
        print(json.dumps(finite(result)))
    else:
        _print_measure(result, str(input))


def _print_measure(result: dict, source: str) -> None:
    """Metrics as rows; the whole set and then each group as columns."""
    from rich.table import Table

    groups = result["groups"]
    title = f"{source}: {result['n']} items, field {result['field']}, embedder {result['embedder']}"
    if result.get("worst_group"):
        title += f", worst group {result['worst_group']}"
    table = Table()
    table.add_column("metric", no_wrap=True)
    table.add_column(f"all\nn={result['n']}", justify="right")
    for label in groups:
        table.add_column(f"{label}\nn={groups[label]['n']}", justify="right", overflow="fold", min_width=9)
    ci = result.get("ci")
    for name, value in result["metrics"].items():
        table.add_row(name, fmt(value), *(fmt(groups[g].get(name)) for g in groups))
        if ci is not None and name in ci["all"]:
            cells = [ci["all"][name], *(ci["groups"][g][name] for g in groups)]
            table.add_row(f"  {ci['confidence']:.0%} CI", *(f"[{fmt(lo)}, {fmt(hi)}]" for lo, hi in cells))
    out = console()
    out.print(title, highlight=False)
    out.print(table)


@app.command()
def select(
    input: Path = typer.Argument(..., help="JSONL, JSON, CSV, Parquet or a saved HF dataset directory."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the chosen rows (format by extension)."),
    budget: int | None = typer.Option(None, "--budget", "-n", help="How many rows to choose."),
    fraction: float | None = typer.Option(None, "--fraction", help="Or which share of the rows, in (0, 1]."),
    method: str = typer.Option("facility-location", "--method", help="Selection method (see `quadiv methods`)."),
    tradeoff: float = typer.Option(0.5, "--tradeoff", "-t", help="0 = diversity only, 1 = quality only."),
    param: list[str] = typer.Option([], "--param", "-p", help="Method parameter NAME=VALUE (repeatable)."),
    field: str | None = FIELD,
    group_field: str | None = GROUP,
    quality_field: str | None = QUALITY,
    quality_missing: str = QUALITY_MISSING,
    embedder: str = EMBEDDER,
    embeddings: Path | None = EMBEDDINGS,
    embedding_field: str | None = EMB_FIELD,
    base_url: str | None = BASE_URL,
    report_path: Path | None = REPORT,
    png: Path | None = PNG,
    seed: int = SEED,
    as_json: bool = JSON,
    quiet: bool = QUIET,
) -> None:
    """Choose a subset that is both good and diverse; write its rows in selection order."""
    from quadiv.measure import measure as run_measure
    from quadiv.report import check_report_paths
    from quadiv.select import get_selector

    _check_output(output, input)
    check_report_paths(report_path, png, (input, output))
    selector = get_selector(method, **parse_params(param))
    pool = load_pool(input, field, group_field, quality_field, (embedding_field,), whole_rows=True)
    io.check_writable(pool.table.schema, output)
    _budget(budget, fraction, len(pool))  # fail before embedding anything
    X, label = load_embeddings_for(pool, embedder, embeddings, embedding_field, base_url, quiet)
    pool, X, quality = pool_quality(pool, X, quality_field, quality_missing)
    budget = _budget(budget, fraction, len(pool))
    groups = pool.labels(group_field) if group_field else None
    texts = pool.texts if pool.field is not None else None
    with progress(f"selecting {budget} of {len(pool)} ({method})", None, quiet):
        result = selector.select(X, budget, quality, tradeoff, groups, seed)
    io.write(pool.take(result.indices), str(output))
    names = _select_metrics(X is not None, texts is not None, quality is not None)
    chosen = result.indices
    with progress("measuring the pool and the selection", None, quiet):
        before = run_measure(X, texts, quality, metrics=names, seed=seed)["metrics"]
        after = run_measure(X[chosen], None if texts is None else [texts[i] for i in chosen],
                            None if quality is None else quality[chosen], metrics=names, seed=seed)["metrics"]
    summary = {"method": method, "budget": budget, "selected": len(chosen), "objective": result.objective,
              "tradeoff": tradeoff, "embedder": label, "field": pool.field, "output": str(output),
              "metrics": {"before": before, "after": after}}
    if groups is not None:
        from quadiv.measure import group_counts

        summary["groups"] = group_counts(groups, chosen)
    if report_path is not None:
        _select_report(summary, report_path, png, pool, X, quality, groups, chosen, seed)
    if as_json:
        print(json.dumps(finite(summary)))
    else:
        _print_select(summary)


def _check_output(output: Path, input: Path) -> None:
    """Fail before any work if OUT cannot be written or would overwrite the input."""
    if not output.parent.exists():
        raise UsageError(f"the folder of {output} does not exist: create it or choose another --output")
    if output.exists() and input.exists() and output.resolve() == input.resolve():
        raise UsageError(f"--output {output} is the input file: quadiv never overwrites its input")


def _select_metrics(embeddings: bool, texts: bool, quality: bool) -> list[str]:
    names = ["vendi", "mean_pairwise_distance"] if embeddings else []
    names += ["distinct_2"] if texts else []
    names += ["quality_mean", "qvendi"] if quality else []
    return names


def _budget(budget: int | None, fraction: float | None, n: int) -> int:
    """The number of rows to choose from --budget or --fraction of n rows, checked against n."""
    from quadiv.select._base import check_budget

    if (budget is None) == (fraction is None):
        raise UsageError("give exactly one of --budget N or --fraction F")
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise UsageError(f"--fraction must lie in (0, 1], got {fraction}")
        return max(1, round(fraction * n))
    check_budget(budget, n)
    return budget


def _png_dir(png: Path | None) -> str | None:
    return None if png is None else str(png)


def _select_report(summary: dict, path: Path, png: Path | None, pool, X, quality, groups, chosen, seed: int) -> None:
    """The HTML page of a selection: quality before/after, groups, the map, chosen and rejected rows."""
    from quadiv.report import build_report, group_rows, map_rows, sample_rows, say_written

    rows = {"map": map_rows(X, chosen, groups, seed=seed), **sample_rows(pool.table, chosen, seed=seed)}
    if quality is not None:
        rows["quality_before"], rows["quality_after"] = quality.tolist(), quality[chosen].tolist()
        if groups is not None:
            rows["groups"] = group_rows(groups, quality, chosen)
    say_written(build_report(summary, str(path), kind="select", rows=rows, png_dir=_png_dir(png)))


def _print_select(report: dict) -> None:
    from rich.table import Table

    table = Table()
    for column in ("metric", "before", "after"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    for name, value in report["metrics"]["before"].items():
        table.add_row(name, fmt(value), fmt(report["metrics"]["after"][name]))
    out = console()
    out.print(f"{report['method']}: chose {report['selected']} rows -> {report['output']} "
              f"(objective {report['objective']:.4g}; field {report['field']}, embedder {report['embedder']})",
              highlight=False)
    out.print(table)
    if "groups" in report:
        counts = Table()
        for column in ("group", "before", "after"):
            counts.add_column(column, justify="right" if column != "group" else "left")
        for label, count in report["groups"].items():
            counts.add_row(label, str(count["before"]), str(count["after"]))
        out.print(counts)


@app.command()
def dedup(
    input: Path = typer.Argument(..., help="JSONL, JSON, CSV, Parquet or a saved HF dataset directory."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the kept rows (format by extension)."),
    minhash: float | None = typer.Option(
        None, "--minhash", help="Also drop near-duplicates: MinHash-LSH Jaccard threshold, e.g. 0.8."),
    semantic: float | None = typer.Option(
        None, "--semantic", help="Also drop semantic duplicates (SemDeDup): cosine threshold, e.g. 0.95."),
    removed_path: Path | None = typer.Option(
        None, "--removed", help="Also write the removed rows, with columns duplicate_of (id of the kept row) and stage."),
    field: str | None = FIELD,
    group_field: str | None = typer.Option(
        None, "--group-field", "-g", help="Column of group labels: duplicates only within a group (e.g. per question)."),
    quality_field: str | None = QUALITY,
    embedder: str = EMBEDDER,
    embeddings: Path | None = EMBEDDINGS,
    embedding_field: str | None = EMB_FIELD,
    base_url: str | None = BASE_URL,
    seed: int = SEED,
    as_json: bool = JSON,
    quiet: bool = QUIET,
) -> None:
    """Remove exact, near and semantic duplicates, keeping the best item of each duplicate group."""
    from quadiv.select import dedup as run_dedup

    _check_output(output, input)
    if removed_path is not None:
        _check_removed(removed_path, input, output)
    pool = load_pool(input, field, group_field, quality_field, (embedding_field,), whole_rows=True)
    for path in (output, removed_path):
        if path is not None:
            io.check_writable(pool.table.schema, path)
    X = None
    if semantic is not None:
        X, _ = load_embeddings_for(pool, embedder, embeddings, embedding_field, base_url, quiet)
    quality = pool.floats(quality_field) if quality_field else None
    groups = pool.labels(group_field) if group_field else None
    with progress("removing duplicates", None, quiet):
        result = run_dedup(pool.texts, X, quality, minhash_threshold=minhash, semantic_threshold=semantic,
                           groups=groups, seed=seed)
    io.write(pool.take(result.keep), str(output))
    summary = {"n": len(pool), "kept": int(result.keep.size), "removed": result.removed, "output": str(output)}
    if removed_path is not None:
        io.write(_removed_rows(pool, result), str(removed_path))
        summary["removed_rows"] = str(removed_path)
    if as_json:
        print(json.dumps(summary))
    else:
        removed = ", ".join(f"{stage} {count}" for stage, count in result.removed.items())
        also = f"; removed rows -> {removed_path}" if removed_path is not None else ""
        console().print(f"kept {summary['kept']} of {summary['n']} rows -> {output} (removed: {removed}){also}",
                          highlight=False)


def _check_removed(removed: Path, input: Path, output: Path) -> None:
    """Fail before any work if the --removed file cannot be written or is the input or the output."""
    if not removed.parent.exists():
        raise UsageError(f"the folder of {removed} does not exist: create it or choose another --removed")
    for other, what in ((input, "the input file: quadiv never overwrites its input"),
                        (output, "the --output file: give the removed rows a file of their own")):
        if removed.resolve() == other.resolve():
            raise UsageError(f"--removed {removed} is {what}")


def _removed_rows(pool, result):
    """The removed rows plus ``duplicate_of`` (the id of the kept row each duplicates) and ``stage``."""
    import pyarrow as pa

    dropped = result.dropped
    ids = pool.table["id"].take(result.cluster_of[dropped])  # the reader gives every pool an id
    table = pool.take(dropped)
    table = table.drop_columns([c for c in ("duplicate_of", "stage") if c in table.column_names])
    stages = pa.array(result.stage_of[dropped].tolist(), pa.string())
    return table.append_column("duplicate_of", ids).append_column("stage", stages)


@app.command()
def methods() -> None:
    """List the selection methods and generation strategies with their parameters (--param NAME=VALUE)."""
    import inspect

    from quadiv._params import params_line
    from quadiv.generate import REQUIRED, STRATEGIES
    from quadiv.select import SELECTORS

    print("selection methods (quadiv select --method M --param NAME=VALUE):")
    for name in sorted(SELECTORS):
        cls = SELECTORS[name]
        doc = (inspect.getdoc(cls) or "").splitlines()
        print(f"  {name:18s} {doc[0] if doc else ''}")
        print(f"  {'':18s} parameters: {params_line(cls)}")
    print("\ngeneration strategies (quadiv generate --strategy S --param NAME=VALUE):")
    for name in sorted(STRATEGIES):
        cls = STRATEGIES[name]
        doc = (inspect.getdoc(cls) or "").splitlines()
        print(f"  {name:18s} {doc[0] if doc else ''}")
        for p in cls.describe():
            default = "required" if p.default is REQUIRED else f"default {p.default!r}"
            print(f"  {'':18s}   {p.name} ({default}): {p.help}")


@app.command("report")
def report_command(
    result: Path = typer.Argument(..., help="A JSON result of `front`, `select --json` or `measure --json`."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the HTML page."),
    png: Path | None = PNG,
) -> None:
    """Turn a saved JSON result into one self-contained HTML page (and PNG figures)."""
    from quadiv.report import report_file, say_written

    written, notes = report_file(result, output, png)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    say_written(written, sys.stdout)


def _register_subcommands() -> None:
    """Commands whose code lives beside their package (generate/, front/)."""
    from quadiv.front._cli import front_command
    from quadiv.generate._cli import generate_command

    app.command("front")(front_command)
    app.command("generate")(generate_command)


_register_subcommands()

if __name__ == "__main__":
    main()
