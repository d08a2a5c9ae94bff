"""Starting Parsl for a run: quickly, once, and safe from Ctrl-C."""
import contextlib
import glob
import os
import shutil
import signal
import tempfile
import threading
import time

from q2_parallel.internals import parsl_private

# Run folders are named by the time their run started.
RUN_FOLDER_PREFIX = 'run-%Y%m%d-%H%M%S-'
# How many run folders (of failed or interrupted runs) a run_dir keeps.
KEPT_RUN_FOLDERS = 20
# A run folder nothing wrote to for this long belongs to a run that ended.
ENDED_AFTER_SECONDS = 3600


def new_dataflow_kernel(config, fork_server=None):
    """Start Parsl for ``config`` in a run folder of its own, readable by
    its owner only, inside the config's ``run_dir`` (which is left as it
    is): it holds the run's keys and Parsl's logs, which can hold data.  Its
    own parent also keeps runs that start at once apart (Parsl numbers its
    folders by listing them, then creating the next).  Returns the kernel;
    ``run_folder(dfk)`` is the folder to remove or keep.  Local worker
    pools, their workers and HTEX's interchanges are forked from
    ``fork_server`` (its address), if any."""
    os.makedirs(config.run_dir, exist_ok=True)
    private = tempfile.mkdtemp(  # mode 0700
        prefix=time.strftime(RUN_FOLDER_PREFIX), dir=config.run_dir)
    remove_old_run_folders(config.run_dir)
    config.run_dir = private
    parsl_private.start_helpers_here(config, fork_server)
    try:
        return parsl_private.new_dataflow_kernel(config)
    except BaseException:
        shutil.rmtree(private, ignore_errors=True)
        raise


def remove_old_run_folders(run_dir, keep=KEPT_RUN_FOLDERS,
                           quiet_for=ENDED_AFTER_SECONDS):
    """Remove the run folders in ``run_dir`` (kept after failed or
    interrupted runs) but the ``keep`` newest.  A folder that something
    wrote to in the last ``quiet_for`` seconds may belong to a run still
    going (Parsl logs every few seconds while it runs), and stays."""
    folders = sorted(glob.glob(os.path.join(run_dir, 'run-*-*')))
    now = time.time()
    for folder in folders[:-keep] if keep else folders:
        if now - _last_written(folder) > quiet_for:
            shutil.rmtree(folder, ignore_errors=True)


def _last_written(folder):
    """When anything in ``folder`` was last written (0 if unreadable)."""
    times = [0.0]
    for root, _, files in os.walk(folder):
        for name in ['.', *files]:
            try:
                times.append(os.stat(os.path.join(root, name)).st_mtime)
            except OSError:
                pass
    return max(times)


def run_folder(dfk):
    """The private folder ``new_dataflow_kernel`` made for ``dfk``."""
    return os.path.dirname(dfk.run_dir)


def start_first_blocks(dfk):
    """Start the executors' first blocks now, not at the first tick of
    Parsl's strategy timer 5 s from now (HTEX's first step: 6 s -> 1.4 s)."""
    parsl_private.poll_blocks_now(dfk)


@contextlib.contextmanager
def ctrl_c_held():
    """Hold Ctrl-C (SIGINT) while the executors start, and act on it once
    they have: Parsl half-started cannot be stopped cleanly.  A Ctrl-C
    pressed meanwhile is remembered by a handler (Python runs handlers in
    the main thread, whichever thread the signal reached) and acted on when
    the block ends.  The signal is also blocked in the main thread, so that
    the helper processes started meanwhile (HTEX's interchange and worker
    pools) inherit it blocked: Ctrl-C on a terminal reaches the whole
    process group, and an interchange killed by it would leave Parsl's
    shutdown waiting forever; this way only the main process gets it, and
    stops the helpers in order.  Handlers can only be set from the main
    thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed = []
    previous = signal.signal(signal.SIGINT, lambda *_: pressed.append(True))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # delivers it now
        signal.signal(signal.SIGINT, previous)
        if pressed:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous == signal.SIG_DFL:
                raise KeyboardInterrupt
