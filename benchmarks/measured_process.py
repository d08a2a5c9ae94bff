"""One fresh process measured as its user sees it: wall time from start to
exit, the peak memory of the process and of the largest process it started,
and the processes it left running.

HTEX's local blocks are started in the background by a shell that exits at
once, so the worker pools are orphans, not descendants of `qiime`.  While a
measurement runs, this process is therefore a child subreaper (Linux's
``PR_SET_CHILD_SUBREAPER``): orphans of the run become its children, the
whole run is one tree below it, and it reaps them when the run ends.
Peaks are each process's ``VmHWM`` (the kernel's own high-water mark of
resident memory), read with the tree every 50 ms.
"""
import contextlib
import ctypes
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psutil

_PR_SET_CHILD_SUBREAPER = 36
SAMPLE_SECONDS = 0.05
GRACE_SECONDS = 5


class RunFailed(RuntimeError):
    """A measured command exited with an error or ran out of time."""

    def __init__(self, command, what, tail):
        super().__init__(f'{" ".join(map(str, command))}\n{what}; its '
                         f'output ended:\n{tail}')
        self.tail = tail

    @property
    def reason(self):
        """One line: the plugin error's first line, else the last line."""
        lines = [line.strip() for line in self.tail.splitlines()
                 if line.strip() and not line.startswith('Debug info')]
        for before, line in zip(lines, lines[1:]):
            if before.startswith('Plugin error'):
                return line
        return lines[-1] if lines else 'no output'


@dataclass
class Measurement:
    pid: int  # of the measured process
    seconds: float
    main_peak_mb: float
    worker_peak_mb: float  # the largest other process of the run; 0 if none
    cpu_seconds: float  # of the whole tree, as sampled
    left_running: list = field(default_factory=list)  # command lines
    # The test plugin's `square` steps, as each recorded its own start and
    # end: their time summed, and summed in the process that ran the most.
    step_seconds: float = 0.0
    busiest_process_steps: float = 0.0


@contextlib.contextmanager
def subreaper():
    """Make this process the reaper of its descendants' orphans."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), 'prctl(PR_SET_CHILD_SUBREAPER)')
    try:
        yield
    finally:
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        _reap()


def _reap():
    """Collect the exit status of every child that has ended."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _peak_kb(pid):
    with open(f'/proc/{pid}/status') as fh:
        for line in fh:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return 0  # a zombie: no memory left to read


class _TreeSampler(threading.Thread):
    """Every process below this one: peak memory and CPU time last seen."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_kb = {}
        self.cpu = {}
        self.processes = {}
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.sample()
            self.done.wait(SAMPLE_SECONDS)

    def sample(self):
        for process in psutil.Process().children(recursive=True):
            try:
                peak = _peak_kb(process.pid)
                times = process.cpu_times()
            except (psutil.Error, OSError):
                continue
            pid = process.pid
            self.processes.setdefault(pid, process)
            self.peak_kb[pid] = max(self.peak_kb.get(pid, 0), peak)
            self.cpu[pid] = times.user + times.system

    def stop(self):
        self.done.set()
        self.join()


def measure(command, env, cwd, timeout, log_path):
    """Run ``command`` (stdout and stderr to ``log_path``); call inside
    ``subreaper()``.  Raises RunFailed with the log's end if it fails.
    Whatever happens, nothing of the run is left running."""
    with open(log_path, 'wb') as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log,
                                   stderr=subprocess.STDOUT)
        sampler = _TreeSampler()
        sampler.start()
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = None
        finally:
            seconds = time.perf_counter() - start
            sampler.stop()
            left = _end_what_is_left(sampler, process)
    if status != 0:
        with open(log_path, errors='replace') as fh:
            tail = ''.join(fh.readlines()[-15:])
        raise RunFailed(command, 'ran out of time' if status is None
                        else f'exited with status {status}', tail)
    workers = [kb for pid, kb in sampler.peak_kb.items()
               if pid != process.pid]
    return Measurement(
        pid=process.pid, seconds=seconds,
        main_peak_mb=sampler.peak_kb.get(process.pid, 0) / 1024,
        worker_peak_mb=max(workers, default=0) / 1024,
        cpu_seconds=sum(sampler.cpu.values()), left_running=left)


def _end_what_is_left(sampler, main):
    """Processes of the run still alive a grace time after it ended: named,
    then ended (SIGTERM, then SIGKILL) and reaped."""
    if main.poll() is None:
        main.kill()
        main.wait()
    alive = [p for p in sampler.processes.values() if _running(p)]
    deadline = time.monotonic() + GRACE_SECONDS
    while alive and time.monotonic() < deadline:
        _reap()
        time.sleep(0.1)
        alive = [p for p in alive if _running(p)]
    left = []
    for process in alive:
        with contextlib.suppress(psutil.Error):
            left.append(' '.join(process.cmdline()) or process.name())
            process.terminate()
    _, still = psutil.wait_procs(alive, timeout=GRACE_SECONDS)
    for process in still:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(still, timeout=GRACE_SECONDS)
    _reap()
    return left


def _running(process):
    try:
        return (process.is_running()
                and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False
