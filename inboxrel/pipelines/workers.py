"""Worker processes that never outlive the run that started them.

A parse worker of ``import`` or ``ingest`` whose parent is killed (``kill -9``, the OOM killer) would
otherwise stay alive, holding its memory, until someone notices. :func:`die_with_parent` is the pools'
initializer: on Linux the kernel sends the worker SIGTERM when its parent dies (``PR_SET_PDEATHSIG``);
elsewhere, or when that call is not available, a daemon thread in the worker watches ``os.getppid()``
and exits the worker when the parent is gone.

Linux sends the signal when the *thread* that forked the worker ends, so the pools are started from the
thread that lives for the whole run (the main thread in both pipelines).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
WATCH_EVERY = 0.5  # seconds between two looks at the parent in the portable watchdog


def die_with_parent(parent_pid: int | None = None) -> None:
    """Initializer of a worker process: exit when ``parent_pid`` (the process that started it) dies.

    ``parent_pid`` is the parent's pid as the parent saw it (pass ``os.getpid()`` in ``initargs``): the
    worker checks it right after arming the signal, in case the parent died before that.
    """
    parent = parent_pid if parent_pid is not None else os.getppid()
    armed = _set_pdeathsig(signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the signal was armed: nobody will send it
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), name="inboxrel-parent-watchdog",
                         daemon=True).start()


def _set_pdeathsig(sig: int) -> bool:
    """Ask the Linux kernel to send ``sig`` to this process when its parent dies. False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int, every: float = WATCH_EVERY) -> None:
    """Exit this process as soon as its parent is no longer ``parent`` (it died; we were re-parented)."""
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(every)
