"""Servers that end with the process that started them, even when it is killed (Linux).

A server started for one process (the tests' SeaweedFS, the temporary Prefect server of
``stagegate promote``) is stopped by that process when it exits normally. Killed by a
signal (SIGKILL, or SIGTERM without the chance to clean up), it would leave the server
running, adopted by init, holding its ports and its data folder. On Linux the child asks
the kernel, between fork and exec, for SIGTERM when its parent ends
(``PR_SET_PDEATHSIG``): the servers stop as they do on ``stop()``. Elsewhere nothing is
asked, and such a server outlives a killed parent as before.

The kernel sends the signal when the *thread* that started the child ends, not the
process. So the tie is made only for children started from the main thread, which
lives as long as the process (it runs the ``atexit`` hooks that stop these servers);
a child started from another thread is not tied, rather than stopped when that thread
finishes. Servers that must outlive the command that starts them (the local stack's,
``stagegate stack up``) are never tied.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

__all__ = ["end_with_this_process"]

#: From <linux/prctl.h>.
_PR_SET_PDEATHSIG = 1


def end_with_this_process() -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen`` tying the child to this process; or None.

    None off Linux, and on a thread other than the main one (see the module's docstring).
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    # Looked up before the fork: the child only makes the call.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    parent = os.getpid()

    def tie() -> None:
        if prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        # A parent that died between the fork and the call above sends no signal.
        if os.getppid() != parent:
            os._exit(1)

    return tie
