"""What the engine adds around Parsl's executors while a run starts, runs
and stops: fixes and defaults for running QIIME 2 steps on them."""
import contextlib
import functools
import logging
import os
import signal
import sys
import threading


def new_dataflow_kernel(config, attempts=3):
    """Start Parsl for ``config``.  Parsl numbers run folders by listing
    them, then creating the next; two runs starting at once can pick the
    same number, and the loser fails before anything started: try again."""
    from parsl.dataflow.dflow import DataFlowKernel

    for attempt in range(attempts):
        try:
            return DataFlowKernel(config)
        except FileExistsError:
            if attempt == attempts - 1:
                raise


def stop_after_failure(dfk):
    """Stop what a failed run still has going, without waiting for it.

    Thread pools drop their queued steps and are not waited for: Python
    cannot stop a running thread, and its result is no longer wanted.
    Executors with a provider have their blocks ended through it and are
    marked failed, so that Parsl's cleanup does not ask the interchange to
    scale in: an interchange killed along with the run (SIGTERM to the
    process group) would leave that request waiting forever, and the
    workers running."""
    from parsl.executors import ThreadPoolExecutor

    for executor in dfk.executors.values():
        if isinstance(executor, ThreadPoolExecutor):
            executor.executor.shutdown(wait=False, cancel_futures=True)
            executor.shutdown = functools.partial(executor.shutdown,
                                                  block=False)
            continue
        provider = getattr(executor, 'provider', None)
        if provider is None or executor.bad_state_is_set:
            continue
        job_ids = list(executor.blocks_to_job_id.values())
        if job_ids:
            provider.cancel(job_ids)
        executor.set_bad_state_and_fail_all(
            RuntimeError('the parallel run stopped'))


def start_first_blocks(dfk):
    """Start the executors' first blocks now, not at the first tick of
    Parsl's strategy timer 5 s from now (HTEX's first step: 6 s -> 1.4 s).
    The timer's own polls and this one take turns, so the first block is
    never submitted twice."""
    poller = dfk.job_status_poller
    timer_poll = poller.callback
    turn = threading.Lock()

    def poll():
        with turn:
            timer_poll()

    poller.callback = poll
    poll()


def give_up_when_blocks_end(dfk):
    """With strategy "none" no block replaces one that ends (a cancelled
    Slurm job, a walltime reached, a killed worker pool), and Parsl counts
    an ended job as completed, not failed: steps still waiting would wait
    forever.  Fail them instead, saying why, unless the config chose its own
    ``block_error_handler``."""
    from parsl.jobs.error_handlers import simple_error_handler

    if dfk.config.strategy not in (None, 'none'):
        return
    for executor in dfk.executors.values():
        if getattr(executor, 'block_error_handler', None) \
                is simple_error_handler:
            executor.block_error_handler = _fail_when_all_blocks_ended


def _fail_when_all_blocks_ended(executor, status):
    from parsl.jobs.error_handlers import simple_error_handler

    simple_error_handler(executor, status)
    if executor.bad_state_is_set or not status:
        return
    waiting = executor.outstanding()
    if waiting and all(job.terminal for job in status.values()):
        jobs = ', '.join(f'{job_id} {job.status_name}'
                         for job_id, job in status.items())
        executor.set_bad_state_and_fail_all(RuntimeError(
            f'Every block of the executor {executor.label!r} has ended '
            f'(jobs: {jobs}) while {waiting} step(s) still needed it, and '
            'with strategy "none" Parsl starts no new block. Its jobs may '
            'have been cancelled, reached their walltime or lost their node: '
            'give them more walltime, or use strategy "simple" with '
            '`retries` so that lost blocks are replaced.'))


def explain_lost_worker(error):
    """Parsl's message for a lost worker names only a host; say what it
    means and what helps."""
    from parsl.executors.high_throughput.errors import (ManagerLost,
                                                        WorkerLost)

    if isinstance(error, (ManagerLost, WorkerLost)):
        error.add_note(
            'The worker process running this step ended before it finished '
            '(killed, out of memory, or its job was cancelled or reached '
            'its walltime). `retries = N` in the [parsl] table reruns such '
            'steps.')


def log_handlers(run_dir):
    """The handlers writing Parsl's log of this run: Parsl removes them at
    cleanup but leaves their files open, so the engine closes them."""
    return [handler for handler in logging.getLogger('parsl').handlers
            if getattr(handler, 'baseFilename', '').startswith(run_dir)]


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


class PythonOnPath:
    """Put this Python's ``bin/`` on PATH while a run lasts.

    Parsl's HighThroughputExecutor starts ``interchange.py`` and
    ``process_worker_pool.py`` by name; in a venv used without activating it
    (a Jupyter kernel, ``.venv/bin/python`` run by path) they are not found.
    """

    def __init__(self):
        self.bin_dir = os.path.dirname(sys.executable)
        self.original = os.environ.get('PATH')
        parts = (self.original or '').split(os.pathsep)
        self.added = self.bin_dir not in parts
        if self.added:
            os.environ['PATH'] = os.pathsep.join([self.bin_dir, *parts])

    def restore(self):
        if self.added:
            if self.original is None:
                os.environ.pop('PATH', None)
            else:
                os.environ['PATH'] = self.original
            self.added = False
