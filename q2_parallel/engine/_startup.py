"""Starting Parsl for a run: quickly, once, and safe from Ctrl-C."""
import contextlib
import signal
import threading

from q2_parallel.internals import parsl_private


def new_dataflow_kernel(config, attempts=3):
    """Start Parsl for ``config``.  Parsl numbers run folders by listing
    them, then creating the next; two runs starting at once can pick the
    same number, and the loser fails before anything started: try again."""
    for attempt in range(attempts):
        try:
            return parsl_private.new_dataflow_kernel(config)
        except FileExistsError:
            if attempt == attempts - 1:
                raise


def start_first_blocks(dfk):
    """Start the executors' first blocks now, not at the first tick of
    Parsl's strategy timer 5 s from now (HTEX's first step: 6 s -> 1.4 s)."""
    parsl_private.poll_blocks_now(dfk)


@contextlib.contextmanager
def helpers_ignore_ctrl_c():
    """Ignore SIGINT while the executors start their helper processes, so
    those inherit it.  Ctrl-C on a terminal reaches the whole process group,
    and an HTEX interchange killed by it leaves Parsl's shutdown waiting
    forever; this way only the main process gets it, and stops the helpers
    in order.  Signal handlers can only be set from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
