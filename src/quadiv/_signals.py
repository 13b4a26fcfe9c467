"""Ctrl-C reaches the main thread, so a command blocked in a network read stops at once.

The kernel hands a process-wide SIGINT to any thread that does not block it. Python runs its handler
(raising KeyboardInterrupt) only when the main thread next executes bytecode, so a SIGINT delivered to
a helper thread (numpy's BLAS workers, Arrow's pool, quadiv's request threads) leaves a main thread
blocked in a read waiting out its timeout. The threads quadiv starts, and those numpy starts on import,
block SIGINT; the command line also runs inside :func:`ctrl_c_reaches_main_thread`, which covers the
threads other libraries start later.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
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


_FORWARD_AFTER = 0.05  # s the main thread gets to act on a SIGINT itself before the watcher sends it there
_ECHO_WINDOW = 1.0  # s after acting on a SIGINT in which a further one is the watcher's echo, not a new Ctrl-C


@contextlib.contextmanager
def ctrl_c_reaches_main_thread() -> Iterator[None]:
    """While inside, a SIGINT taken by any thread interrupts the main thread, even one blocked in a call.

    Threads started lazily by C libraries (Arrow's pool, OpenMP, torch) inherit an unblocked mask, so
    blocking cannot cover them all. CPython's C handler, in whichever thread runs it, writes the signal
    number to the :func:`signal.set_wakeup_fd` pipe; a watcher thread reads it and, if the main thread
    has not raised KeyboardInterrupt within ``_FORWARD_AFTER``, sends SIGINT to the main thread with
    ``pthread_kill``: its blocked read or lock wait returns EINTR and the handler runs. The handler raises
    once per Ctrl-C: a SIGINT within ``_ECHO_WINDOW`` of the last one it acted on is that one's echo.
    """
    if not hasattr(signal, "pthread_kill") or threading.current_thread() is not threading.main_thread():
        yield
        return
    main = threading.main_thread().ident
    acted = [float("-inf")]  # monotonic time the handler last raised

    def on_sigint(signum, frame) -> None:
        now = time.monotonic()
        if now - acted[0] < _ECHO_WINDOW:
            return
        acted[0] = now
        raise KeyboardInterrupt

    def watch(read_end: int) -> None:
        echoes = 0  # SIGINTs this watcher sent, whose bytes are still to come
        while chunk := os.read(read_end, 512):
            heard = time.monotonic()
            new = chunk.count(signal.SIGINT)
            echoed = min(new, echoes)
            echoes, new = echoes - echoed, new - echoed
            if new:
                time.sleep(_FORWARD_AFTER)
                if acted[0] < heard - _ECHO_WINDOW:
                    echoes += 1
                    signal.pthread_kill(main, signal.SIGINT)
        os.close(read_end)

    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    previous_handler = signal.signal(signal.SIGINT, on_sigint)
    previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    with threads_started_here_block_sigint():
        watcher = threading.Thread(target=watch, args=(read_end,), name="quadiv-ctrl-c", daemon=True)
        watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous_fd)
        os.close(write_end)  # the watcher reads end-of-file and stops
        watcher.join(1.0)
        signal.signal(signal.SIGINT, previous_handler)
