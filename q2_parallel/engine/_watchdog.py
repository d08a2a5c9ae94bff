"""Ends a run's processes when the process that runs it is killed.

A process killed with SIGKILL (the out-of-memory killer, ``kill -9``, a
batch system, a notebook's kernel restart) cannot stop what it started:
HTEX's interchange, local worker pools, the programs its steps ran.  So
each run marks the processes it starts with an environment variable of its
own (every child inherits it) and starts this file as a watchdog, in a
session of its own, reading a pipe whose other end only the run's process
holds.  The run writes ``done`` when it ends; if the pipe closes without
it, the run's process died, and the watchdog ends every process with the
mark, and every process it saw descend from the run's process (one a step
started with an environment of its own).  Parsl titles its processes with
setproctitle, which overwrites what ``/proc/PID/environ`` shows unless
``SPT_NOENV`` is set, so the run sets it too: HTEX's interchange would
otherwise lose the mark, and a run killed within a second of starting it
would leave it running.  Run as a script, it imports nothing of QIIME 2 or
Parsl.
"""
import os
import select
import subprocess
import sys
import time
import uuid

import psutil

MARK_PREFIX = 'Q2_PARALLEL_RUN_'
DONE = b'done\n'
GRACE_SECONDS = 3
LOOK_EVERY_SECONDS = 1
SEARCHES = 5


class Watchdog:
    """Started with a run (in its process), stopped when it ends."""

    def __init__(self):
        self.mark = f'{MARK_PREFIX}{uuid.uuid4().hex}'
        read_end, self._write_end = os.pipe()  # not inherited (PEP 446)
        try:
            self._process = subprocess.Popen(
                [sys.executable, '-I', os.path.abspath(__file__), self.mark,
                 str(os.getpid())],
                stdin=read_end, stdout=subprocess.DEVNULL,
                start_new_session=True)
        finally:
            os.close(read_end)
        self._environ_before = {name: os.environ.get(name)
                                for name in self.environment}
        os.environ.update(self.environment)

    @property
    def environment(self):
        """The variables that mark the run's processes and keep the mark
        visible to the watchdog, and their values."""
        return {self.mark: '1', 'SPT_NOENV': '1'}

    @property
    def pipe(self):
        """The run's end of the pipe (to close in a copy of the run's
        process, which must not keep the watchdog from seeing its end)."""
        return self._write_end

    def stop(self):
        """The run ended: its processes are its own business again."""
        for name, value in self._environ_before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        try:
            os.write(self._write_end, DONE)
        except OSError:  # the watchdog is gone
            pass
        os.close(self._write_end)
        self._process.wait()


def end_marked(mark, descendants, spared_group):
    """End every process of this user that carries ``mark``, every process
    in the process group of one that does (workers forked from a copy of
    the run's process join their block's group but do not carry it), and
    those of ``descendants`` still running; the group ``spared_group`` (the
    run's own, which may hold the user's shell pipeline) is not ended as a
    group.  A process forked as the run died shows the mark only once it
    runs its program, so each round of ending is followed by a new search,
    until one finds nothing new."""
    ended = {psutil.Process()}
    found = {p for p in descendants if p.is_running()}
    for _ in range(SEARCHES):
        found = (found | _marked_and_grouped(mark, spared_group)) - ended
        if not found:
            return
        end_processes(list(found))
        ended |= found
        found = set()


def _marked_and_grouped(mark, spared_group):
    groups = {}
    marked = set()
    for process in psutil.process_iter():
        groups[process] = _group(process)
        try:
            if mark in process.environ():
                marked.add(process)
        except (psutil.Error, OSError):
            pass
    ours = {groups[p] for p in marked} - {None, spared_group, os.getpgrp()}
    return marked | {p for p, group in groups.items() if group in ours}


def _group(process):
    try:
        return os.getpgid(process.pid)
    except OSError:
        return None


def end_processes(processes, terminate=True, grace=GRACE_SECONDS):
    """Ask ``processes`` to end (SIGTERM, unless they were asked already)
    and kill those still running ``grace`` seconds later."""
    if terminate:
        for process in processes:
            try:
                process.terminate()
            except psutil.NoSuchProcess:
                pass
    for process in _still_running(processes, grace):
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(processes, timeout=0)  # reap this process's children


def _still_running(processes, timeout):
    """Those of ``processes`` still running after up to ``timeout``
    seconds.  A process that has ended is done with, even while it waits
    for its parent to reap it: worker processes are reaped by init, which
    some containers do only every second or two."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    running = [p for p in processes if _running(p)]
    while running and time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(2 * delay, 0.1)
        running = [p for p in running if _running(p)]
    return running


def _running(process):
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def main(mark, run_pid):
    """Watch the run's process until it says ``done`` or dies."""
    run = psutil.Process(run_pid)
    run_group = os.getpgid(run_pid)
    descendants = set()
    said = b''
    while True:
        if select.select([sys.stdin], [], [], LOOK_EVERY_SECONDS)[0]:
            chunk = os.read(sys.stdin.fileno(), len(DONE))
            said += chunk
            if not chunk or said == DONE:
                break
            continue
        try:
            descendants.update(run.children(recursive=True))
        except psutil.Error:
            pass
    if said != DONE:
        end_marked(mark, descendants, run_group)


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))
