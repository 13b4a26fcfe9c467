"""Ctrl-C reaches the main thread, so a command blocked in a network read stops at once.

The kernel hands a process-wide SIGINT to any thread that does not block it. Python runs its handler
(raising KeyboardInterrupt) only when the main thread next executes bytecode, so a SIGINT delivered to
a helper thread (numpy's BLAS workers, quadiv's request threads) leaves a main thread blocked in a read
waiting out its timeout. Helper threads therefore block SIGINT; only the main thread receives it.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


def block_sigint_here() -> None:
    """Block SIGINT in the calling thread (a thread's first call, or a pool's ``initializer``)."""
    if hasattr(signal, "pthread_sigmask") and threading.current_thread() is not threading.main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


@contextlib.contextmanager
def threads_started_here_block_sigint() -> Iterator[None]:
    """Threads started inside (also by C libraries) inherit a mask that blocks SIGINT; the caller's is restored."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
