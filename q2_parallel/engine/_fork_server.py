"""Local HTEX workers forked from a copy of the run's own process.

A worker that starts as a fresh interpreter imports QIIME 2 and loads every
installed plugin before its first step: seconds, and more with each plugin.
The process that runs the block has done that already.  So as a run starts
(before Parsl's threads exist), it forks a copy of itself that serves
multiprocessing's fork server protocol on a Unix socket in a folder only
its user can enter, and the worker pools of the run's local blocks fork
their workers from it (``internals.process_worker_pool``): they start with
everything loaded, at once.  The copy forgets what belongs to the run's
process (finalizers that remove its temporary files, its caches), ignores
Ctrl-C as any fork server does, and ends when the run closes its pipe or
dies.  Its objects are frozen out of garbage collection, so that the pages
a worker shares with it stay shared.
"""
import gc
import os
import shutil
import signal
import socket
import sys
import tempfile

import psutil

from q2_parallel.internals import (multiprocessing_private, parsl_private,
                                   qiime2_private)

from ._watchdog import end_processes


class WorkerForkServer:
    """Started by a run that has local HTEX blocks, stopped when it ends."""

    def __init__(self, close=()):
        """``close``: descriptors of the run the copy must not hold (the
        pipe its watchdog watches)."""
        # Named as multiprocessing names its folders, so that a run killed
        # with SIGKILL leaves one that the next run's sweep removes.
        self.folder = tempfile.mkdtemp(prefix='pymp-')
        self.address = os.path.join(self.folder, 'listener-q2-parallel')
        listener = socket.socket(socket.AF_UNIX)
        alive_r, self._alive_w = os.pipe()
        try:
            listener.bind(self.address)
            listener.listen()
            for stream in (sys.stdout, sys.stderr):
                _flush(stream)
            self.pid = os.fork()
            if self.pid == 0:
                for fd in [self._alive_w, *close]:
                    os.close(fd)
                _serve(listener, alive_r)
        except BaseException:
            os.close(self._alive_w)
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        finally:
            listener.close()
            os.close(alive_r)

    def stop(self):
        """End the server (its workers ended with their blocks)."""
        try:
            server = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            server = None
        os.close(self._alive_w)
        if server is not None:
            end_processes([server], terminate=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _serve(listener, alive_r):
    """In the forked copy: become the fork server; never return."""
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.stdout = _file_on(1)  # not a notebook's stream, whose thread
        sys.stderr = _file_on(2)  # stayed behind
        multiprocessing_private.detach_finalizers()
        qiime2_private.forget_caches()
        parsl_private.import_helper_modules()
        gc.freeze()  # the garbage collector of a worker would write to
        # every page of objects it shares with this process, copying them
        multiprocessing_private.serve_forks(listener, alive_r)
    finally:
        os._exit(0)


def _file_on(fd):
    try:
        return open(fd, 'w', buffering=1, closefd=False)
    except OSError:
        return open(os.devnull, 'w')


def _flush(stream):
    try:
        stream.flush()
    except Exception:  # a closed or odd stream has nothing to flush
        pass
