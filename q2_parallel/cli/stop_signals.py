"""Ctrl-C and SIGTERM stop a `qiime … --parallel` run, and are never lost.

SIGTERM is what `kill`, a batch system or a service manager sends to end a
process.  Python's default would end `qiime` at once and leave HTEX's
workers running; here it raises `Terminated` in the main thread, so the
run stops as on Ctrl-C: executors and workers stopped, partial outputs
removed.

A stop raised while Python runs a ``weakref.finalize`` callback is printed
as "Exception ignored in" and dropped: the run would go on, write its
outputs and exit 0.  QIIME 2 drops its results' references to the cache
that way while q2cli saves the outputs, so a Ctrl-C pressed then was often
lost.  Such a stop is kept, unprinted, and raised again
(`raise_if_swallowed`) once q2cli is done, before anything is kept.
"""
import contextlib
import signal
import sys

INTERRUPTED_EXIT_STATUS = 130
TERMINATED_EXIT_STATUS = 143  # 128 + SIGTERM, as shells report it


class Terminated(BaseException):
    """SIGTERM arrived during the run; like KeyboardInterrupt, it is not an
    Exception, so q2cli does not report it as the plugin's error."""


# How each way of stopping a run is reported, and its exit status.
STOPS = {
    KeyboardInterrupt: ('Interrupted', INTERRUPTED_EXIT_STATUS),
    Terminated: ('Terminated', TERMINATED_EXIT_STATUS),
}
_RAISED_ON = {signal.SIGINT: KeyboardInterrupt, signal.SIGTERM: Terminated}


class StopSignals:
    """While the run lasts, Ctrl-C raises KeyboardInterrupt and SIGTERM
    raises `Terminated` in the main thread (q2cli runs commands there, the
    only thread that may set signal handlers).  A SIGTERM while the
    executors start is held until they have (Parsl half-started cannot be
    stopped cleanly; the engine holds Ctrl-C itself), and later signals are
    ignored while the run stops, unless the stop was swallowed."""

    def __init__(self):
        self._holding = False
        self._pending = False
        self._stopping = False
        self._swallowed = None
        self._previous = {}
        self._previous_hook = None

    def __enter__(self):
        self._previous = {signum: signal.signal(signum, self._on_signal)
                          for signum in _RAISED_ON}
        self._previous_hook = sys.unraisablehook
        sys.unraisablehook = self._on_unraisable
        return self

    def __exit__(self, exc_type, exc, tb):
        sys.unraisablehook = self._previous_hook
        stopped = exc_type is not None and issubclass(exc_type, tuple(STOPS))
        if not stopped:  # else they stay ignored until the process ends
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)
        return False

    def _on_signal(self, signum, frame):
        if self._stopping and self._swallowed is None:
            return
        if self._holding and signum == signal.SIGTERM:
            self._pending = True
            return
        self._stop(_RAISED_ON[signum])

    def _stop(self, stop):
        self._stopping = True
        self._swallowed = None
        raise stop()

    def _on_unraisable(self, unraisable):
        if isinstance(unraisable.exc_value, tuple(STOPS)):
            self._swallowed = type(unraisable.exc_value)
        else:
            self._previous_hook(unraisable)

    def raise_if_swallowed(self):
        """Raise again a stop that a finalizer swallowed."""
        if self._swallowed is not None:
            self._stop(self._swallowed)

    @contextlib.contextmanager
    def held(self):
        """Hold a SIGTERM until the block ends."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            if self._pending:
                self._stop(Terminated)
