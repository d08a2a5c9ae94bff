"""Stopping a run's executors: at once after a failure, with the programs
its steps started and with Parsl's log files closed."""
import glob
import logging
import os
import shutil
import tempfile
import time

import psutil

from q2_parallel.internals import parsl_private

from ._watchdog import end_processes


def stop_after_failure(dfk):
    """Stop what a failed run still has going, without waiting for it.

    Thread pools drop their queued steps and are not waited for: Python
    cannot stop a running thread, and its result is no longer wanted.
    Executors with a provider have their blocks ended through it and are
    marked failed, so that Parsl's cleanup does not ask the interchange to
    scale in: an interchange killed along with the run (SIGTERM to the
    process group) would leave that request waiting forever, and the
    workers running.  No step starts after this, not even one whose inputs
    a step still running in a thread delivers later: it fails instead."""
    parsl_private.fail_steps_not_launched(dfk, 'the parallel run stopped')
    for executor in parsl_private.thread_pool_executors(dfk).values():
        parsl_private.drop_queued_thread_steps(executor)
    for executor in parsl_private.provider_executors(dfk):
        if not parsl_private.has_failed(executor):
            end_executor(executor, RuntimeError('the parallel run stopped'))


def end_executor(executor, error):
    """End an executor's blocks through its provider, and mark it failed
    with ``error``, which its steps not finished fail with."""
    job_ids = parsl_private.block_job_ids(executor)
    if job_ids:
        executor.provider.cancel(job_ids)
    parsl_private.fail_executor(executor, error)


def close_log_files(handlers):
    """Detach Parsl's log handlers of a run and close their files.  Parsl
    2026 detaches them at cleanup but leaves the files open; Parsl 2024.10
    leaves them attached, and a closed file handler reopens its file at the
    next message: in a run folder that is gone by then."""
    logger = logging.getLogger('parsl')
    for handler in handlers:
        logger.removeHandler(handler)
        handler.close()


def log_handlers(run_dir):
    """The handlers writing Parsl's log of the run in ``run_dir``."""
    return [handler for handler in logging.getLogger('parsl').handlers
            if getattr(handler, 'baseFilename', '').startswith(run_dir)]


class ProgramsStarted:
    """The processes started in this process while a run lasts: the
    programs its steps run in threads (an aligner, a tree builder), and
    Parsl's helpers.  Steps in worker processes are stopped with their
    blocks.  A program does not stop with the thread that started it, and a
    SIGTERM or an interrupt from a notebook reaches only this process."""

    def __init__(self, before=None):
        """Counts the processes started from now on; those in ``before``
        (by default, the children running now) are not the run's."""
        self._this = psutil.Process()
        self._before = set(self._this.children(recursive=True)
                           if before is None else before)

    def end(self):
        """Ask those still running to end (SIGTERM); kill those that have
        not after a few seconds."""
        end_processes([p for p in self._this.children(recursive=True)
                       if p not in self._before])


class BlockProcessGroups:
    """The process groups of the blocks started on this host.  Parsl ends
    a block with SIGTERM to its group; a worker in the middle of a long
    computation in C acts on it (removing its step's temporary files) only
    once that returns, so what is still running a few seconds later is
    killed."""

    def __init__(self, block_pids):
        self._groups = set()
        for pid in block_pids:
            try:
                self._groups.add(os.getpgid(pid))
            except OSError:  # the block has ended
                pass
        self._groups.discard(os.getpgrp())  # never this process's own

    def end(self):
        end_processes([p for p in psutil.process_iter() if self._in_group(p)],
                      terminate=False)  # Parsl has sent SIGTERM

    def _in_group(self, process):
        try:
            return os.getpgid(process.pid) in self._groups
        except OSError:
            return False


def remove_dead_multiprocessing_folders(since, timeout=3):
    """Remove the ``pymp-*`` folders that HTEX worker pools on this host
    left in the temporary folder.  Each pool's manager (Python's
    multiprocessing) listens on a socket in one; Parsl ends pools with a
    signal, so nothing removes it.  A folder whose sockets no process has
    bound any more is dead.  Folders made since ``since`` (by this run's
    pools) may still be bound for a moment while their manager ends, so
    they are waited for up to ``timeout`` seconds.  Only Linux tells which
    sockets are bound (``/proc/net/unix``); elsewhere nothing is removed."""
    deadline = time.monotonic() + timeout
    while True:
        bound = _bound_unix_sockets()
        if bound is None:
            return
        waiting = False
        pattern = os.path.join(tempfile.gettempdir(), 'pymp-*')
        for folder in glob.glob(pattern):
            sockets = glob.glob(os.path.join(folder, 'listener-*'))
            if not sockets:  # made, but not used yet: it may still be
                continue
            if bound.isdisjoint(sockets):
                shutil.rmtree(folder, ignore_errors=True)
            elif _modified_since(folder, since):
                waiting = True
        if not waiting or time.monotonic() > deadline:
            return
        time.sleep(0.1)


def _bound_unix_sockets():
    """The paths of the Unix sockets bound on this host (None if it does
    not say)."""
    try:
        with open('/proc/net/unix') as table:
            next(table)  # the heading
            return {fields[7] for fields in
                    (line.rstrip('\n').split(None, 7) for line in table)
                    if len(fields) == 8}
    except OSError:
        return None


def _modified_since(path, since):
    try:
        return os.stat(path).st_mtime >= since
    except OSError:
        return False
