"""Exception classes with actionable one-line messages; the CLI turns them into exit code 2."""
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
        super().__init__(text)


class UsageError(QuadivError):
    """Bad arguments: an unknown method or metric, a budget larger than the data, q out of range."""


class MissingDependencyError(QuadivError):
    """An optional backend is needed: the message names the extra to install."""

    def __init__(self, package: str, extra: str | None, purpose: str):
        if extra is None:  # a core dependency: the installation itself is incomplete
            super().__init__(f"{purpose} needs the '{package}' package, which quadiv depends on: "
                             f"pip install '{package}' (or reinstall quadiv)")
        else:
            super().__init__(f"{purpose} needs the '{package}' package: pip install 'quadiv[{extra}]'")
