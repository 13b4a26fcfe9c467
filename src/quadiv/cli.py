"""The `quadiv` command line: thin Typer commands over the Python API.

Every command prints a table by default and exactly one JSON object with ``--json``; bad input or
arguments give one line on stderr and exit code 2.
"""
from __future__ import annotations

import contextlib
import json
import math
import string
import sys
from pathlib import Path
from typing import Iterator, Optional

import typer

from quadiv.errors import QuadivError, UsageError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Measure and control the quality-diversity trade-off of ML data and model outputs.")

# Options shared by the commands that read a pool.
FIELD = typer.Option(None, "--field", "-f", help="Text column, or a template like '{instruction}\\n\\n{output}'.")
GROUP = typer.Option(None, "--group-field", "-g", help="Column of group labels (model, domain, ...).")
QUALITY = typer.Option(None, "--quality-field", "-q", help="Column of quality scores (higher is better).")
EMBEDDER = typer.Option("static", "--embedder", "-e", help="static | minilm | st:<path> | openai:<model>.")
EMBEDDINGS = typer.Option(None, "--embeddings", help="Precomputed (n, d) .npy embeddings, one row per input row.")
EMB_FIELD = typer.Option(None, "--embedding-field", help="Column holding a precomputed embedding per row.")
BASE_URL = typer.Option(None, "--base-url", help="Base URL of an OpenAI-compatible server (openai:<model>).")
SEED = typer.Option(0, "--seed", help="Seed for every random choice.")
JSON = typer.Option(False, "--json", help="Print exactly one JSON object.")
QUIET = typer.Option(False, "--quiet", help="No progress bar.")


def main() -> None:
    """Entry point: run the app; turn quadiv's errors into one line and exit code 2."""
    try:
        app(standalone_mode=False)
    except QuadivError as err:
        _fail(str(err))
    except (OSError, ValueError) as err:  # unreadable files, bad numbers from the shell
        _fail(f"{type(err).__name__}: {err}")
    except KeyboardInterrupt:
        _fail("interrupted; no output was written", code=130)
    except typer.Exit as done:
        raise SystemExit(done.exit_code) from None
    except typer.Abort:
        _fail("aborted", code=130)
    except Exception as err:  # click usage errors carry their own exit code
        import click

        if isinstance(err, click.ClickException):
            err.show()
            raise SystemExit(err.exit_code) from None
        raise


def _fail(message: str, code: int = 2) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


@contextlib.contextmanager
def _progress(label: str, total: int | None, quiet: bool) -> Iterator:
    """A progress bar on stderr (off when quiet or not a TTY); yields ``advance(n_done)``."""
    if quiet or not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _template_columns(field: str | None) -> set[str]:
    if field is None:
        return set()
    if "{" not in field:
        return {field}
    return {name for _, name, _, _ in string.Formatter().parse(field.replace("\\n", "\n")) if name}


def _embeddings(pool, embedder: str, embeddings: Path | None, embedding_field: str | None,
                base_url: str | None, quiet: bool):
    """(X, embedder label) from a .npy file, a column, or an embedder over the pool's texts."""
    from quadiv.embed import embed, embeddings_from_column, load_embeddings

    if embeddings is not None:
        return load_embeddings(str(embeddings), len(pool)), f"file:{embeddings.name}"
    if embedding_field is not None:
        return embeddings_from_column(pool.table, embedding_field), f"field:{embedding_field}"
    texts = pool.texts
    options = {"base_url": base_url} if base_url else {}
    with _progress(f"embedding ({embedder})", len(texts), quiet) as advance:
        X = embed(texts, embedder=embedder, progress=advance, **options)
    return X, embedder


def _load(input: Path, field, group_field, quality_field, extra_fields=()):
    """Read only the columns the command needs."""
    from quadiv._pool import read

    wanted = _template_columns(field) | {f for f in (group_field, quality_field, *extra_fields) if f}
    columns = sorted(wanted | {"id"}) if field is not None else None
    return read(str(input), field, columns=columns)


@app.command()
def measure(
    input: Path = typer.Argument(..., help="JSONL, JSON, CSV, Parquet or a saved HF dataset directory."),
    field: Optional[str] = FIELD,
    group_field: Optional[str] = GROUP,
    quality_field: Optional[str] = QUALITY,
    input_field: Optional[str] = typer.Option(
        None, "--input-field", help="Column naming the input (prompt) of each output: per-input diversity."),
    embedder: str = EMBEDDER,
    embeddings: Optional[Path] = EMBEDDINGS,
    embedding_field: Optional[str] = EMB_FIELD,
    base_url: Optional[str] = BASE_URL,
    metrics: Optional[str] = typer.Option(None, "--metrics", "-m", help="Comma-separated metric names."),
    reference: Optional[Path] = typer.Option(
        None, "--reference", help="Reference set (same format and field): precision, recall, density, coverage."),
    k: int = typer.Option(5, "--k", help="Neighbours for the reference-set radii."),
    seed: int = SEED,
    as_json: bool = JSON,
    quiet: bool = QUIET,
) -> None:
    """How diverse and how good a set is, overall and per group."""
    from quadiv.measure import measure as run_measure
    from quadiv.measure._suite import parse_metrics

    names = parse_metrics(metrics)
    pool = _load(input, field, group_field, quality_field, (input_field, embedding_field))
    X, label = _embeddings(pool, embedder, embeddings, embedding_field, base_url, quiet)
    texts = pool.texts if pool.field is not None else None
    quality = pool.floats(quality_field) if quality_field else None
    groups = pool.labels(group_field) if group_field else None
    input_ids = pool.labels(input_field) if input_field else None
    ref_X = None
    if reference is not None:
        ref_pool = _load(reference, pool.field, None, None, (embedding_field,))
        ref_X, _ = _embeddings(ref_pool, embedder, None, embedding_field, base_url, quiet)
    with _progress("measuring", len(pool), quiet) as advance:
        result = run_measure(X, texts, quality, groups, metrics=names, input_ids=input_ids, reference=ref_X,
                             k=k, seed=seed, progress=advance)
    result = {"n": result["n"], "embedder": label, "field": pool.field, **result}
    if as_json:
        print(json.dumps(_finite(result)))
    else:
        _print_measure(result, str(input))


def _finite(obj):
    """NaN and infinity become null so the JSON is valid everywhere."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def _print_measure(result: dict, source: str) -> None:
    """Metrics as rows; the whole set and then each group as columns."""
    from rich.table import Table

    groups = result["groups"]
    title = f"{source}: {result['n']} items, field {result['field']}, embedder {result['embedder']}"
    if result.get("worst_group"):
        title += f", worst group {result['worst_group']}"
    table = Table(title=title)
    table.add_column("metric", no_wrap=True)
    table.add_column(f"all\nn={result['n']}", justify="right")
    for label in groups:
        table.add_column(f"{label}\nn={groups[label]['n']}", justify="right", overflow="fold")
    for name, value in result["metrics"].items():
        table.add_row(name, _fmt(value), *(_fmt(groups[g].get(name)) for g in groups))
    _console(24 + 11 * (len(groups) + 1)).print(table)


def _console(width: int):
    """stdout console; when piped, wide enough for the whole table instead of wrapping at 80."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=max(width, 80))


def _fmt(value) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@app.command()
def select(
    input: Path = typer.Argument(..., help="JSONL, JSON, CSV, Parquet or a saved HF dataset directory."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the chosen rows (format by extension)."),
    budget: Optional[int] = typer.Option(None, "--budget", "-n", help="How many rows to choose."),
    fraction: Optional[float] = typer.Option(None, "--fraction", help="Or which share of the rows, in (0, 1]."),
    method: str = typer.Option("facility-location", "--method", help="Selection method (see `quadiv methods`)."),
    tradeoff: float = typer.Option(0.5, "--tradeoff", "-t", help="0 = diversity only, 1 = quality only."),
    param: list[str] = typer.Option([], "--param", "-p", help="Method parameter NAME=VALUE (repeatable)."),
    field: Optional[str] = FIELD,
    group_field: Optional[str] = GROUP,
    quality_field: Optional[str] = QUALITY,
    embedder: str = EMBEDDER,
    embeddings: Optional[Path] = EMBEDDINGS,
    embedding_field: Optional[str] = EMB_FIELD,
    base_url: Optional[str] = BASE_URL,
    seed: int = SEED,
    as_json: bool = JSON,
    quiet: bool = QUIET,
) -> None:
    """Choose a subset that is both good and diverse; write its rows in selection order."""
    from quadiv.io import write
    from quadiv.measure import measure as run_measure
    from quadiv.select import get_selector

    _check_output(output, input)
    selector = get_selector(method, **_params(param))
    pool = _load(input, field, group_field, quality_field, (embedding_field,))
    n = len(pool)
    budget = _budget(budget, fraction, n)
    X, label = _embeddings(pool, embedder, embeddings, embedding_field, base_url, quiet)
    quality = pool.floats(quality_field) if quality_field else None
    groups = pool.labels(group_field) if group_field else None
    texts = pool.texts if pool.field is not None else None
    result = selector.select(X, budget, quality, tradeoff, groups, seed)
    write(pool.take(result.indices), str(output))
    names = _select_metrics(X is not None, texts is not None, quality is not None)
    chosen = result.indices
    before = run_measure(X, texts, quality, metrics=names, seed=seed)["metrics"]
    after = run_measure(X[chosen], None if texts is None else [texts[i] for i in chosen],
                        None if quality is None else quality[chosen], metrics=names, seed=seed)["metrics"]
    report = {"method": method, "budget": budget, "selected": int(len(chosen)), "objective": result.objective,
              "tradeoff": tradeoff, "embedder": label, "output": str(output),
              "metrics": {"before": before, "after": after}}
    if as_json:
        print(json.dumps(_finite(report)))
    else:
        _print_select(report)


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


def _params(pairs: list[str]) -> dict:
    """NAME=VALUE pairs; values parsed as JSON when they can be (numbers, lists), else strings."""
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--param expects NAME=VALUE, got '{pair}'")
        try:
            params[name.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            params[name.replace("-", "_")] = value
    return params


def _budget(budget: int | None, fraction: float | None, n: int) -> int:
    if (budget is None) == (fraction is None):
        raise UsageError("give exactly one of --budget N or --fraction F")
    if fraction is not None:
        if not 0 < fraction <= 1:
            raise UsageError(f"--fraction must lie in (0, 1], got {fraction}")
        return max(1, round(fraction * n))
    return budget


def _print_select(report: dict) -> None:
    from rich.table import Table

    table = Table(title=f"{report['method']}: {report['selected']} of the pool -> {report['output']} "
                        f"(objective {report['objective']:.4g})")
    for column in ("metric", "before", "after"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    for name, value in report["metrics"]["before"].items():
        table.add_row(name, _fmt(value), _fmt(report["metrics"]["after"][name]))
    _console(80).print(table)


@app.command()
def methods() -> None:
    """List the selection methods and their parameters."""
    import inspect

    from quadiv.select import SELECTORS

    for name in sorted(SELECTORS):
        cls = SELECTORS[name]
        doc = (inspect.getdoc(cls) or "").splitlines()[0] if inspect.getdoc(cls) else ""
        print(f"{name:20s} {doc}")


if __name__ == "__main__":
    main()
