"""The progress line a parallel run shows on a terminal."""
import io

from q2_parallel.cli.progress import ProgressReporter, format_progress
from q2_parallel.engine import StepCounts


def test_progress_line_counts_steps_and_elapsed_time():
    assert (format_progress(StepCounts(3, 2, 5), 12.7)
            == 'steps: 3 done, 2 running, 5 waiting \u2014 00:12')
    assert format_progress(StepCounts(0, 0, 1), 3725).endswith('1:02:05')


def test_reporter_rewrites_one_line_and_ends_it():
    counts = iter([StepCounts(0, 1, 4), StepCounts(5, 0, 0)])
    terminal = io.StringIO()
    with ProgressReporter(lambda: next(counts), terminal, interval=3600):
        pass
    shown = terminal.getvalue()
    assert shown.startswith('\rsteps: 0 done, 1 running, 4 waiting')
    assert shown.count('\r') == 2 and shown.endswith('\x1b[K\n')
    assert '\rsteps: 5 done, 0 running, 0 waiting' in shown


def test_reporter_without_a_terminal_never_asks_for_counts():
    with ProgressReporter(lambda: 1 / 0, None, interval=0.01):
        pass  # 1 / 0 would raise if counts were taken
