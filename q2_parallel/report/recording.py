"""What the main process keeps of a run for its report: when Parsl was
started and ready, which executors it had, and each step's name, executor,
Parsl future and clock.  Nothing is read from Parsl until the run ends."""
import socket
import threading
import time

from q2_parallel.internals import parsl_private

from .step_clock import ON_ERROR


class StepEntry:
    """One submitted step: ``name`` ('plugin_id:action_id'), executor
    ``label``, its Parsl ``future`` and, for a step that runs in this
    process (``local``), the ``clock`` it runs on."""

    def __init__(self, name, label, future, clock):
        self.name = name
        self.label = label
        self.future = future
        self.clock = clock
        self.local = clock is not None

    def final_clock(self):
        """The step's clock: the one it ran on here, or the one it sent
        back with its output or its exception; None if it has none."""
        if self.clock is not None:
            return self.clock if self.clock.started is not None else None
        if not self.future.done():
            return None
        try:
            return getattr(self.future.result(), 'clock', None)
        except BaseException as error:
            return getattr(error, ON_ERROR, None)


class RunRecord:
    """The run's timeline as the main process sees it.  ``started`` is
    when the block began starting Parsl (``time.time()``)."""

    def __init__(self):
        self.started = time.time()
        self.ready = None
        self.host = socket.gethostname()
        self.executors = []
        self._steps = []
        self._lock = threading.Lock()

    def parsl_ready(self, dfk):
        """Parsl has started and asked for its first blocks."""
        self.ready = time.time()
        self.executors = parsl_private.configured_executors(dfk)

    def add_step(self, name, label, future, clock=None):
        with self._lock:
            self._steps.append(StepEntry(name, label, future, clock))

    def futures(self):
        with self._lock:
            return [entry.future for entry in self._steps]

    def steps(self):
        with self._lock:
            return list(self._steps)
