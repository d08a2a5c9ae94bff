"""Starting Parsl for a run: quickly, once, and safe from Ctrl-C."""
import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time

from q2_parallel.internals import parsl_private


def new_dataflow_kernel(config):
    """Start Parsl for ``config`` in a run folder of its own, readable by
    its owner only, inside the config's ``run_dir`` (which is left as it
    is): it holds the run's keys and Parsl's logs, which can hold data.  Its
    own parent also keeps runs that start at once apart (Parsl numbers its
    folders by listing them, then creating the next).  Returns the kernel;
    ``run_folder(dfk)`` is the folder to remove or keep."""
    os.makedirs(config.run_dir, exist_ok=True)
    private = tempfile.mkdtemp(  # mode 0700
        prefix=time.strftime('run-%Y%m%d-%H%M%S-'), dir=config.run_dir)
    config.run_dir = private
    parsl_private.use_reliable_worker_probe(config)
    try:
        return parsl_private.new_dataflow_kernel(config)
    except BaseException:
        shutil.rmtree(private, ignore_errors=True)
        raise


def run_folder(dfk):
    """The private folder ``new_dataflow_kernel`` made for ``dfk``."""
    return os.path.dirname(dfk.run_dir)


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
