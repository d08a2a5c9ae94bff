"""When and where a step ran, taken by the step itself.

Cheap on purpose (two clock readings and a few names per step), so that a
run with the report on is hardly slower than one without: the clock travels
back to the main process with the step's output, or with its exception.
"""
import functools
import os
import socket
import threading
import time

from q2_parallel.internals import parsl_private

# The attribute of a step's exception that carries its clock.
ON_ERROR = 'q2p_step_clock'
# When this process could first run a step: a worker imports this module,
# after the framework, while it unpickles its first step.  A worker forked
# with it imported could run one once it started, which is when it was
# forked: that moment is taken in the child (``_forked``), since the start
# the system gives (``_process_started``) can be a second off.
_READY = time.time()
_FORKED = None


def _forked():
    global _READY, _FORKED
    _READY = _FORKED = time.time()


os.register_at_fork(after_in_child=_forked)


class StepClock:
    """Wall-clock start and end of one step, and the place it ran: host,
    process (and when it started, and was ready to run steps), thread, and
    (in a worker) its HTEX block, worker rank and Slurm job.  Times are
    this host's clock (``time.time()``)."""

    def __init__(self):
        self.started = self.ended = None
        self.host = self.pid = self.thread = None
        self.process_started = self.process_ready = None
        self.place = {}

    def __enter__(self):
        self.started = time.time()
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.thread = threading.current_thread().name
        self.process_started = _FORKED or _process_started(self.pid)
        self.process_ready = max(_READY, self.process_started)
        self.place = parsl_private.worker_place()
        slurm_job = os.environ.get('SLURM_JOB_ID')
        if slurm_job:
            self.place['job'] = slurm_job
        return self

    def __exit__(self, exc_type, error, traceback):
        self.ended = time.time()
        if error is not None:
            try:
                setattr(error, ON_ERROR, self)
            except AttributeError:  # exceptions with __slots__
                pass
        return False

    def __repr__(self):
        return (f'<StepClock {self.started}-{self.ended} on {self.host} '
                f'pid {self.pid} {self.thread}>')


@functools.lru_cache(maxsize=None)
def _process_started(pid):
    """When process ``pid`` started (a worker's start-up ends there); by
    pid, as a forked process inherits the cache."""
    import psutil

    return psutil.Process(pid).create_time()
