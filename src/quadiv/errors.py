"""Every exception class of quadiv, with one-line actionable messages; the CLI exits 2 on a QuadivError.

::

    QuadivError                  a problem the user can fix; str(err) says what and how
    ├── InputError               bad input data (file, line or field)
    ├── UsageError               bad arguments
    │   ├── UnknownNameError     a method, strategy, embedder, backend or metric not registered
    │   └── ParameterError       a parameter the chosen method or strategy lacks
    ├── MissingDependencyError   an optional package is not installed (names the extra)
    ├── RemoteError              a server refused a request, could not be reached, or kept failing
    │   ├── WorkerLost               a Ray actor holding part of a job's state died
    │   ├── EmbeddingRequestError    the OpenAI-compatible embeddings endpoint
    │   └── BackendRequestError      the OpenAI-compatible chat completions endpoint
    ├── GenerationError          a prompt kept getting empty or missing text from the backend
    ├── SearchError              a quality-diversity search stopped making children it could evaluate
    └── GenerationCancelled      a backend call ended early because the backend was cancelled

    RunStopping (Exception)      control flow inside a generation run, never shown to the user
"""
from __future__ import annotations


class QuadivError(Exception):
    """Base class: a problem the user can fix; str(err) is one line saying what and how."""


class InputError(QuadivError):
    """Bad input data: names the file, the line or field, and what to do.

    >>> str(InputError("line 3: invalid JSON", path="a.jsonl", fix="fix or remove that line"))
    'a.jsonl: line 3: invalid JSON (fix or remove that line)'
    """

    def __init__(self, message: str, *, path: str | None = None, fix: str | None = None):
        self.path, self.fix = path, fix
        text = f"{path}: {message}" if path else message
        if fix:
            text += f" ({fix})"
        # one line whatever the data put into it (a field name or value holding a line break)
        super().__init__(text.replace("\r", "\\r").replace("\n", "\\n"))


class UsageError(QuadivError):
    """Bad arguments: an unknown method or metric, a budget larger than the data, q out of range."""


class UnknownNameError(UsageError):
    """A method, strategy, embedder, backend or metric that is not registered; says which ones are."""


class ParameterError(UsageError):
    """A parameter the chosen method or strategy does not take; the message lists the ones it does."""


class MissingDependencyError(QuadivError):
    """An optional backend is needed: the message names the extra to install."""

    def __init__(self, package: str, extra: str | None, purpose: str):
        if extra is None:  # a core dependency: the installation itself is incomplete
            super().__init__(f"{purpose} needs the '{package}' package, which quadiv depends on: "
                             f"pip install '{package}' (or reinstall quadiv)")
        else:
            super().__init__(f"{purpose} needs the '{package}' package: pip install 'quadiv[{extra}]'")


class RemoteError(QuadivError):
    """A server refused a request, could not be reached, or kept failing.

    ``status`` is the HTTP status of a refusal (None otherwise) and ``problem`` its one-line
    description with the server's own message ('HTTP 400: ...').
    """

    def __init__(self, message: str, *, status: int | None = None, problem: str | None = None):
        super().__init__(message)
        self.status, self.problem = status, problem


class WorkerLost(RemoteError):
    """A worker that held part of a job's state (a Ray actor) died; the job can run again from its inputs."""


class EmbeddingRequestError(RemoteError):
    """The embeddings endpoint refused the request or kept failing after the retries."""


class BackendRequestError(RemoteError):
    """The server refused a request (a 4xx other than 408/409/429), could not be reached, or kept failing."""


class GenerationError(QuadivError):
    """A prompt kept getting empty or missing text from the backend."""


class SearchError(QuadivError):
    """A quality-diversity search made no child that survived its filters for many iterations."""


class GenerationCancelled(QuadivError):
    """A backend call ended early, or never started, because the backend's ``cancel()`` was called."""


class RunStopping(Exception):
    """A backend call was refused because the run is stopping (not a QuadivError: the first error wins)."""
