"""Pieces shared by the commands: common options, output-path checks, progress, loading, output."""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import json
import math
import re
import string
import sys
import typing
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import typer

from quadiv.errors import UsageError

# Options shared by the commands that read a pool.
FIELD = typer.Option(None, "--field", "-f", help="Text column, or a template like '{instruction}\\n\\n{output}'.")
GROUP = typer.Option(None, "--group-field", "-g", help="Column of group labels (model, domain, ...).")
QUALITY = typer.Option(None, "--quality-field", "-q", help="Column of quality scores (higher is better).")
EMBEDDER = typer.Option("static", "--embedder", "-e",
                        help="static | minilm | st:<path> | openai:<model> | grad:<causal LM dir> (G-Vendi).")
EMBEDDINGS = typer.Option(None, "--embeddings", help="Precomputed (n, d) .npy embeddings, one row per input row, "
                          "or a directory written by `quadiv embed`.")
EMB_FIELD = typer.Option(None, "--embedding-field", help="Column holding a precomputed embedding per row.")
BASE_URL = typer.Option(None, "--base-url", help="Base URL of an OpenAI-compatible server (openai:<model>).")
SEED = typer.Option(0, "--seed", help="Seed for every random choice.")
JSON = typer.Option(False, "--json", help="Print exactly one JSON object.")
QUIET = typer.Option(False, "--quiet", help="No progress bar.")
INSTRUCTION = typer.Option(None, "--instruction-field",
                           help="Column of the instruction each text answers (judge, ifd: guessed if absent; "
                           "perplexity and the grad: embedder's prompt: only when given).")
QUALITY_SCORER = typer.Option(
    None, "--quality", help="Score quality on the fly with this scorer (heuristic, rm:<dir>, judge:<model>, ...; "
    "see `quadiv methods`) instead of reading --quality-field.")
QUALITY_PARAM = typer.Option([], "--quality-param", metavar="N=V",
                             help="Parameter NAME=VALUE of the --quality scorer (repeatable).")
QUALITY_MISSING = typer.Option(
    "error", "--quality-missing", help="Rows with missing/NaN quality: error (default), drop, or min (worst score).")
ENGINE = typer.Option(None, "--engine", help="Where the work runs: local (default) or ray (pip install 'quadiv\\[ray]'; "
                      "the same answers: embedding, scoring, measure's sums, select's greedy methods, dedup; "
                      "facility location over recorded partitions). Default: $QUADIV_ENGINE.")
ADDRESS = typer.Option(None, "--address", help="A running Ray cluster (host:port) for --engine ray; "
                       "default: a local one started for the run.")
REPORT = typer.Option(None, "--report", help="Also write a self-contained HTML report here.")
PNG = typer.Option(None, "--png", help="Also write PNG figures into this folder.")


# Library messages name arguments in backticks (`quality_missing`); the CLI shows the flag that sets each.
ARGUMENT_FLAGS = {"field": "--field", "quality_field": "--quality-field", "quality_missing": "--quality-missing",
                  "fraction": "--fraction", "budget": "--budget", "budget_evals": "--budget-evals",
                  "instruction_field": "--instruction-field", "report": "--report", "png": "--png",
                  "tradeoff": "--tradeoff", "embedder": "--embedder", "nan": "--combine-nan",
                  "reference_field": "--reference-field", "backend": "--backend", "base_url": "--base-url",
                  "capabilities": "--capabilities", "resume": "--resume", "embeddings": "--embeddings",
                  "group_field": "--group-field", "objectives": "--objectives",
                  "input_field": "--input-field", "reference": "--reference", "taxonomy": "--taxonomy", "address": "--address",
                  "scores": "--score-fields", "top_k": "--top-k", "top_logprobs_field": "--top-logprobs-field",
                  "shard_rows": "--shard-rows"}


def as_flags(message: str) -> str:
    """``message`` with each backticked argument name of :data:`ARGUMENT_FLAGS` written as its flag."""
    return re.sub(r"`([a-z_]+)`", lambda m: ARGUMENT_FLAGS.get(m.group(1), m.group(0)), message)


def fail(message: str, code: int = 2) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def check_output(path: Path, inputs: Iterable[object] = (), option: str = "--output",
                 others: Iterable[tuple[Path, str]] = ()) -> None:
    """Before any work: the folder of ``path`` (given as ``option``) exists, and ``path`` is none of the
    command's existing ``inputs`` (paths; other values are skipped: a missing input is the reader's error)
    nor of its ``others``, (path, what it is) pairs."""
    if not path.parent.is_dir():
        raise UsageError(f"the folder of {path} does not exist: create it or choose another {option}")
    named = [(Path(given), "the input file: quadiv never overwrites its input")
             for given in inputs if isinstance(given, (str, Path)) and Path(given).exists()]
    for given, what in (*named, *others):
        if path.resolve() == Path(given).resolve():
            raise UsageError(f"{option} {path} is {what}")


@contextlib.contextmanager
def progress(label: str, total: int | None, quiet: bool) -> Iterator:
    """A progress bar on stderr (off when quiet or not a TTY); yields ``advance(n, total=None)``.

    ``total=None`` shows a pulsing bar for work of unknown length; ``advance(0, total=T)`` sets it later.
    The bar is removed when the block ends, so it never outlives the work it shows.
    """
    if quiet or not sys.stderr.isatty():
        yield lambda n, total=None: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(n: int, total: int | None = None) -> None:
            if total is not None:
                bar.update(task, total=total)
            bar.advance(task, n)

        yield advance


def template_columns(field: str | None) -> set[str]:
    if field is None:
        return set()
    if "{" not in field:
        return {field}
    return {name for _, name, _, _ in string.Formatter().parse(field.replace("\\n", "\n")) if name}


def load_embeddings_for(pool, embedder: str, embeddings: Path | None, embedding_field: str | None,
                base_url: str | None, quiet: bool, instruction_field: str | None = None, engine=None):
    """(X, embedder label) from a .npy file or a `quadiv embed` directory, a column, or an embedder over
    the pool's texts (:func:`texts_to_embed`)."""
    from quadiv.embed import embed, embeddings_from_column, load_embeddings

    if embeddings is not None:
        X = load_embeddings(str(embeddings), len(pool), texts=pool.texts)
        if embeddings.is_dir():  # a `quadiv embed` directory names its embedder
            from quadiv.embed import read_manifest

            return X, f"{read_manifest(embeddings)['embedder']} (from {embeddings.name}/)"
        return X, f"file:{embeddings.name}"
    if embedding_field is not None:
        return embeddings_from_column(pool.table, embedding_field, path=pool.path), f"field:{embedding_field}"
    model = ready_embedder(embedder, base_url, quiet)
    texts = texts_to_embed(pool, model, instruction_field)
    with progress(f"embedding ({embedder})", len(texts), quiet) as advance:
        X = embed(texts, embedder=model, progress=counting(advance),
                  engine=remote(engine))
    return X, embedder


def ready_embedder(embedder: str, base_url: str | None, quiet: bool):
    """The --embedder model, its one-time set-up (the static model's distillation) done under a progress bar."""
    from quadiv.embed import get_embedder

    model = get_embedder(embedder, **({"base_url": base_url} if base_url else {}))
    pending = getattr(model, "pending_build", lambda: 0)()
    if pending:
        with progress(f"building the {embedder} embedder (once, then cached)", pending, quiet) as advance:
            model.build(progress=advance)
    return model


def texts_to_embed(pool, model, instruction_field: str | None) -> list[str]:
    """The pool's texts; an embedder that takes prompts (``grad:``) gets ``join_prompt(instruction, text)``
    per row when ``instruction_field`` is given, so only the text's tokens are scored."""
    from quadiv.embed import join_prompt

    texts = pool.texts
    if instruction_field is not None and getattr(model, "takes_prompt", False):
        from quadiv.io import render_texts

        prompts = render_texts(pool.table, instruction_field, path=pool.path)
        texts = [join_prompt(p, t) for p, t in zip(prompts, texts)]
    return texts


def counting(advance):
    """``done(n_done)`` for work that reports how many rows are finished so far, feeding a bar's increments."""
    finished = [0]

    def done(n_done: int) -> None:
        advance(n_done - finished[0])
        finished[0] = n_done

    return done


def load_pool(input: Path, field, group_field, quality_field, extra_fields=(), *, whole_rows: bool = False):
    """Read the columns the command needs (the reader adds `id` when the file has one), or every column
    with ``whole_rows`` for commands that write rows back out in the input's schema; a named column that
    the file lacks is an error either way."""
    from quadiv.io import read_pool as read

    wanted = template_columns(field) | {f for f in (group_field, quality_field, *extra_fields) if f}
    pool = read(str(input), field, columns=sorted(wanted) if field is not None and not whole_rows else None)
    missing = sorted(wanted - set(pool.table.column_names))
    if missing:
        from quadiv.io import missing_field

        raise missing_field(missing[0], pool.table.column_names, str(input))
    return pool


def png_dir(png: Path | None) -> str | None:
    """The --png folder as the report functions take it."""
    return None if png is None else str(png)


def finite(obj):
    """NaN and infinity become null so the JSON is valid everywhere."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [finite(v) for v in obj]
    return obj


def console():
    """stdout console; when piped, unbounded, so tables keep whole headers and cells instead of wrapping."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=100_000)


def fmt(value) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def parse_params(pairs: list[str], option: str = "--param") -> dict[str, Any]:
    """NAME=VALUE pairs of ``option``; a value is parsed as JSON when it can be (numbers, lists, null), else text."""
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"{option} expects NAME=VALUE, got '{pair}'")
        try:
            params[name.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            params[name.replace("-", "_")] = value
    return params


def comma_list(spec: str | None) -> list[str] | None:
    """'a, b,c' -> ['a', 'b', 'c'] (empty items dropped); None stays None."""
    return None if spec is None else [part.strip() for part in spec.split(",") if part.strip()]


def quality_scorer(spec: str | None, params: list[str], quality_field: str | None):
    """The ``--quality`` scorer as (spec, scorer), built before any work; None without ``--quality``."""
    if spec is None:
        if params:
            raise UsageError("--quality-param sets a parameter of the --quality scorer: give --quality too")
        return None
    if quality_field is not None:
        raise UsageError("give --quality-field (a column of scores) or --quality (a scorer), not both")
    from quadiv.quality import build_scorers

    scorers = build_scorers(spec, parse_params(params, "--quality-param"))
    if len(scorers) != 1:
        raise UsageError("--quality takes one scorer; to join several, run `quadiv score --combine rank` "
                         "and pass --quality-field combined_quality")
    return scorers[0]


def needs_whole_rows(scorer, instruction_field: str | None) -> bool:
    """Whether the pool must be read whole so that the scorer's instruction column can be guessed."""
    return scorer is not None and scorer[1].needs_instruction and instruction_field is None


def load_quality(pool, X, quality_field: str | None, missing: str, scorer, instruction_field: str | None,
                 quiet: bool, engine=None):
    """(pool, X, quality) from ``--quality-field``, or by scoring the pool with the ``--quality`` scorer
    (on ``engine``'s tasks when it is not local).

    The score joins the pool as a column named after the scorer, so rows written out carry it (its other
    columns, such as the heuristic rules' statistics, are for `quadiv score`).
    """
    from quadiv.io import Pool, pool_quality

    if scorer is None:
        return pool_quality(pool, X, quality_field, missing)
    from quadiv.quality import score_pool, with_columns

    with progress(f"scoring ({scorer[0]})", len(pool), quiet) as advance:
        (result,) = score_pool(pool, [scorer], instruction_field=instruction_field,
                               progress=lambda label, total: counting(advance), engine=remote(engine))
    pool = Pool(with_columns(pool.table, {result.column: result.scores.values}), pool.path, pool.field)
    return pool_quality(pool, X, result.column, missing, higher_is_better=result.scorer.higher_is_better)


def open_engine(name: str | None, address: str | None, check: Callable[[str], None] | None = None):
    """The --engine (``check(name)`` first, e.g. the method's support for it), its cluster joined now, so an
    unreachable --address is one line before any work or output."""
    from quadiv.engine import get_engine

    where = get_engine(name, address=address)
    if check is not None:
        check(where.name)
    return where.connect()


def remote(engine):
    """``engine`` when it runs work elsewhere (Ray), else None: the library's local paths need no engine."""
    return None if engine is None or engine.name == "local" else engine


def _option(default: Any) -> Any:
    """A dataclass field whose command-line option is ``default`` (a typer.Option)."""
    return dataclasses.field(metadata={"option": default})


@dataclasses.dataclass
class EmbeddingSource:
    """Where a command's embeddings come from: --embedder, --embeddings, --embedding-field, --base-url."""

    embedder: str = _option(EMBEDDER)
    embeddings: Path | None = _option(EMBEDDINGS)
    embedding_field: str | None = _option(EMB_FIELD)
    base_url: str | None = _option(BASE_URL)

    def load(self, pool, quiet: bool, instruction_field: str | None = None, engine=None):
        """(X, embedder label) for ``pool``; ``instruction_field`` holds the prompts of a ``grad:`` embedder;
        ``engine`` (not local) encodes the texts in its actors."""
        return load_embeddings_for(pool, self.embedder, self.embeddings, self.embedding_field, self.base_url, quiet,
                                   instruction_field, engine)


@dataclasses.dataclass
class QualitySource:
    """Where a command's quality comes from: --quality-field or --quality SCORER, and the missing-value policy."""

    quality_field: str | None = _option(QUALITY)
    quality_missing: str = _option(QUALITY_MISSING)
    quality_scorer: str | None = _option(QUALITY_SCORER)
    quality_param: list[str] = _option(QUALITY_PARAM)
    instruction_field: str | None = _option(INSTRUCTION)

    @functools.cached_property
    def scorer(self):
        """The --quality scorer as (spec, scorer), or None; built on first use, before any work."""
        return quality_scorer(self.quality_scorer, self.quality_param, self.quality_field)

    @property
    def columns(self) -> tuple[str | None, ...]:
        """The columns besides the quality field that scoring reads."""
        return (self.instruction_field,)

    @property
    def whole_rows(self) -> bool:
        """Whether the pool must be read whole (to guess the scorer's instruction column)."""
        return needs_whole_rows(self.scorer, self.instruction_field)

    def load(self, pool, X, quiet: bool, engine=None):
        """(pool, X, quality): read the column, or score the pool (on ``engine``'s tasks when not local)."""
        return load_quality(pool, X, self.quality_field, self.quality_missing, self.scorer, self.instruction_field,
                            quiet, engine)


@dataclasses.dataclass
class RunOptions:
    """--seed, --json and --quiet."""

    seed: int = _option(SEED)
    as_json: bool = _option(JSON)
    quiet: bool = _option(QUIET)


class Options(typing.NamedTuple):
    """The option groups a command takes, in one argument: ``options.quality``, ``.embedding``, ``.run``."""

    quality: QualitySource | None
    embedding: EmbeddingSource | None
    run: RunOptions


def with_options(*, quality: bool = True, embedding: bool = True) -> Any:
    """Decorator: the command's ``options`` argument is an :class:`Options` built from option groups
    (the dataclasses above), whose fields typer sees as options after the command's own."""
    groups = {"quality": QualitySource if quality else None, "embedding": EmbeddingSource if embedding else None,
              "run": RunOptions}

    def decorate(command):
        own = [p for name, p in inspect.signature(command).parameters.items() if name != "options"]
        hints = typing.get_type_hints(command)
        added = []
        for cls in filter(None, groups.values()):
            types = typing.get_type_hints(cls)
            added += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.metadata["option"],
                                        annotation=types[f.name]) for f in dataclasses.fields(cls)]

        @functools.wraps(command)
        def run(**values):
            built = {name: cls and cls(**{f.name: values.pop(f.name) for f in dataclasses.fields(cls)})
                     for name, cls in groups.items()}
            return command(**values, options=Options(**built))

        params = [p.replace(annotation=hints[p.name]) for p in own] + added
        run.__signature__ = inspect.Signature(params, return_annotation=None)
        run.__annotations__ = {p.name: p.annotation for p in params}
        del run.__wrapped__  # typer reads the signature above, not the command's
        return run

    return decorate
