"""The `quadiv` command line: thin Typer commands over the Python API, one module per command.

Every command prints a table by default and exactly one JSON object with ``--json``; bad input or
arguments give one line on stderr and exit code 2.
"""
from __future__ import annotations

import sys

import typer

from quadiv._signals import ctrl_c_reaches_main_thread
from quadiv.cli import dedup, embed, front, generate, measure, methods, report, score, search, select
from quadiv.cli._common import as_flags, fail
from quadiv.errors import QuadivError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Measure and control the quality-diversity trade-off of ML data and model outputs.")

def main() -> None:
    """Entry point: run the app; a usage or input error is one line and exit 2, Ctrl-C exit 130.

    Typer's parser errors are recognised by shape (an ``exit_code`` and a ``show()``), not by class:
    typer 0.29 raises its own vendored copy of click's exceptions, older typers raise click's.
    A bug (any other exception) keeps its traceback.
    """
    try:
        with ctrl_c_reaches_main_thread():
            code = app(standalone_mode=False, prog_name="quadiv")
    except QuadivError as err:
        fail(as_flags(str(err)))
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


app.command("measure")(measure.measure_command)
app.command("select")(select.select_command)
app.command("score")(score.score_command)
app.command("embed")(embed.embed_command)
app.command("dedup")(dedup.dedup_command)
app.command("methods")(methods.methods_command)
app.command("report")(report.report_command)
app.command("front")(front.front_command)
app.command("generate")(generate.generate_command)
app.command("search")(search.search_command)
