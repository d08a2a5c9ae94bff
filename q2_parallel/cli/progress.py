"""A one-line progress display for parallel runs on a terminal."""
import threading
import time


def format_progress(counts, seconds):
    """`steps: 3 done, 2 running, 5 waiting — 01:05` for a StepCounts."""
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    clock = f'{minutes:02d}:{seconds:02d}'
    if hours:
        clock = f'{hours}:{clock}'
    return (f'steps: {counts.done} done, {counts.running} running, '
            f'{counts.waiting} waiting \u2014 {clock}')


class ProgressReporter:
    """Rewrites the progress line on `stream` every `interval` seconds from a
    thread while the `with` block waits for a run; leaves the last line.

    Parameters
    ----------
    counts : callable
        Returns the current StepCounts (``ParallelConfig.progress``).
    stream : text file or None
        The terminal to write to; with None nothing is shown.
    interval : float
        Seconds between updates.
    """

    def __init__(self, counts, stream, interval=1.0):
        self.counts = counts
        self.stream = stream
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._show_until_stopped,
                                        name='q2-parallel-progress',
                                        daemon=True)
        self._started = None

    def __repr__(self):
        return (f'ProgressReporter(counts={self.counts!r}, '
                f'stream={self.stream!r}, interval={self.interval!r})')

    def __enter__(self):
        self._started = time.monotonic()
        if self.stream is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc_info):
        if self.stream is not None:
            self._stop.set()
            self._thread.join()
            self._show()
            self.stream.write('\n')
            self.stream.flush()
        return False

    def _show_until_stopped(self):
        self._show()
        while not self._stop.wait(self.interval):
            self._show()

    def _show(self):
        line = format_progress(self.counts(),
                               time.monotonic() - self._started)
        # \r returns to the line's start, ESC[K clears what was longer.
        self.stream.write(f'\r{line}\x1b[K')
        self.stream.flush()
