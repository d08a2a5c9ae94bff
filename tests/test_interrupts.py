"""Ctrl-C (pressed on the run's terminal) and SIGTERM (sent to `qiime`
alone, as `kill` does) end a parallel run the one documented way, at every
moment of it: while the executors start, while a step runs a program in a
thread or in an HTEX worker, and while the outputs are saved.

Each moment is reached without sleeping: the HTEX interchange is started
through a command that waits for a file, the `square` step runs a program
that waits for a file (`CLI_TEST_HOLD`), and an output is a FIFO that
nobody reads.  Then: exit 130 or 143, one line saying what was stopped and
naming Parsl's log folder if (and only if) it is kept, no traceback, no
output, and nothing of the run left: no process (the step's program
included), no temporary file or folder under TMPDIR, no pool of the run in
QIIME 2's cache.
"""
import fcntl
import os
import re
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import parallel_config_toml
from tests.test_faults import QiimeRun, home  # noqa: F401 (a fixture)
from tests.test_cli_run import wait_for_step

pytestmark = pytest.mark.slow

STOPS = {'ctrl-c': (130, 'Interrupted'), 'sigterm': (143, 'Terminated')}
# Starts the interchange once the test creates `go`; writes `starting`.
# Python, like the interchange, keeps the signal mask it inherits (a shell
# would unblock SIGINT).
GATED_INTERCHANGE = [sys.executable, '-c', textwrap.dedent("""\
    import os, sys, time
    gate = sys.argv[1]
    open(os.path.join(gate, 'starting'), 'w').close()
    while not os.path.exists(os.path.join(gate, 'go')):
        time.sleep(0.05)
    os.execvp('interchange.py', ['interchange.py'])""")]
PIPE_BYTES = 4096  # the smallest pipe the kernel makes
F_SETPIPE_SZ = getattr(fcntl, 'F_SETPIPE_SZ', 1031)  # Linux's; Python 3.10+


class Moment:
    """How a test reaches one moment of a run: the config it runs with,
    what it prepares, and how it knows the moment has come."""

    def __init__(self, folder):
        self.folder = folder
        self.gate = folder / 'gate'
        self.gate.mkdir()
        self.out = folder / 'out'
        self.out.mkdir()
        self.existing = set()

    def config(self):
        return parallel_config_toml(run_dir=self.folder / 'runinfo')

    def environment(self):
        return {}

    def wait(self, run):
        raise NotImplementedError

    def release(self):
        """Let whatever still waits go on (only a leftover would)."""
        (self.gate / 'go').touch()


class Starting(Moment):
    def config(self):
        return parallel_config_toml(
            htex='htex', mapping={'square': 'htex'},
            run_dir=self.folder / 'runinfo', htex_options={
                'interchange_launch_cmd': [*GATED_INTERCHANGE,
                                           str(self.gate)]})

    def wait(self, run):
        wait_for_file(self.gate / 'starting', run.process)

    def after_stop(self):
        self.release()  # the interchange starts; the run stops after


class StepProgram(Moment):
    """`square` runs its program, in a thread or in an HTEX worker."""

    def __init__(self, folder, htex):
        super().__init__(folder)
        self.htex = htex

    def config(self):
        if not self.htex:
            return super().config()
        return parallel_config_toml(
            htex='htex', mapping={'square': 'htex'}, heartbeat_period=1,
            run_dir=self.folder / 'runinfo')

    def environment(self):
        return {'CLI_TEST_HOLD': self.gate / 'go',
                'CLI_TEST_TRACE': self.folder / 'trace'}

    def wait(self, run):
        wait_for_step(self.folder / 'trace', 'square', run.process)

    def after_stop(self):
        pass  # the program must be ended by the stop, not by the file


class Saving(Moment):
    """q2cli has saved `total` and is writing `square` into a FIFO that
    nobody reads: it blocks once the pipe is full."""

    def __init__(self, folder):
        super().__init__(folder)
        self.fifo = self.out / 'square.qza'
        os.mkfifo(self.fifo)
        self.existing = {self.fifo.name}
        self._reader = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        fcntl.fcntl(self._reader, F_SETPIPE_SZ, PIPE_BYTES)

    def wait(self, run):
        deadline = time.monotonic() + 120
        while not _blocked_writing(run.process.pid, self.fifo):
            assert run.process.poll() is None, run.finish()
            assert time.monotonic() < deadline, 'the output was not written'
            time.sleep(0.05)

    def after_stop(self):
        """Read the pipe from now on, as a slow disk takes data at last."""
        self._drain = threading.Thread(target=self._read_to_end, daemon=True)
        self._drain.start()

    def _read_to_end(self):
        while select.select([self._reader], [], [], 60)[0]:
            if not os.read(self._reader, 65536):  # qiime closed the file
                return

    def close(self):
        self._drain.join(timeout=60)
        os.close(self._reader)


def _blocked_writing(pid, path):
    """Whether the main thread of `pid` waits in a system call on a file
    descriptor of `path` (/proc/PID/syscall: number, then arguments)."""
    try:
        call = Path(f'/proc/{pid}/syscall').read_text().split()
        if len(call) < 2 or not call[0].isdigit():  # running
            return False
        return os.readlink(f'/proc/{pid}/fd/{int(call[1], 16)}') == str(path)
    except (OSError, ValueError):
        return False


def wait_for_file(path, process, timeout=120):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, 'qiime ended before the moment came'
        assert time.monotonic() < deadline, f'{path} did not appear'
        time.sleep(0.05)


MOMENTS = {
    'while-starting': Starting,
    'thread-step-program': lambda folder: StepProgram(folder, htex=False),
    'worker-step-program': lambda folder: StepProgram(folder, htex=True),
    'while-saving': Saving,
}


@pytest.fixture
def busy_machine():
    """Two processes that keep both cores busy while the test runs."""
    spinners = [subprocess.Popen(['sh', '-c', 'while :; do :; done'])
                for _ in range(2)]
    yield
    for spinner in spinners:
        spinner.kill()
        spinner.wait()


def interrupt_at(moment_name, stop, home, tmp_path):  # noqa: F811
    moment = MOMENTS[moment_name](tmp_path)
    config = tmp_path / 'parallel.toml'
    config.write_text(moment.config())
    tmpdir = tmp_path / 'tmp'
    tmpdir.mkdir()
    run = QiimeRun(['cli-test', 'sum-of-squares', '--p-a', '2', '--p-b', '3',
                    '--o-total', moment.out / 'total', '--o-square-of-a',
                    moment.out / 'square', '--parallel-config', config],
                   home, tmp_path, terminal=True, TMPDIR=tmpdir,
                   **moment.environment())
    try:
        moment.wait(run)
        if stop == 'ctrl-c':
            run.ctrl_c()
        else:
            run.process.send_signal(signal.SIGTERM)
        moment.after_stop()
        status, stdout, shown = run.finish(timeout=60)
    finally:
        moment.release()
        if isinstance(moment, Saving):
            moment.close()
    exit_status, what = STOPS[stop]
    assert status == exit_status, shown
    assert f'{what}: stopping every parallel step; no output is written.' \
        in shown
    assert shown.count(what) == 1, shown
    assert 'Traceback' not in shown and 'exception' not in shown, shown
    assert stdout == ''
    kept = re.findall(r"Parsl's logs of this run are kept in (\S+)",
                      re.sub(r'\x1b\[[0-9;]*[A-Za-z]', '', shown))
    run_folders = list((tmp_path / 'runinfo').glob('run-*/*'))
    assert [str(f) for f in run_folders] == kept, shown
    assert {p.name for p in moment.out.iterdir()} == moment.existing
    assert run.left_behind() == []
    # The recycle pool that keeps finished steps is kept on purpose, and
    # named; nothing else is.
    named_pools = re.findall(r'kept in the recycle pool (\w+)', shown)
    assert leftovers(tmpdir, kept=named_pools) == []


def leftovers(tmpdir, kept):
    """What the run left under TMPDIR: anything but QIIME 2's cache, and
    in the cache, any pool (of a process, or of the run) but those `kept`.
    """
    left = [p.name for p in tmpdir.iterdir() if p.name != 'qiime2']
    for cache in (tmpdir / 'qiime2').glob('*'):
        left += [f'{p.parent.name}/{p.name}' for folder in ('processes',
                                                            'keys', 'pools')
                 for p in (cache / folder).glob('*') if p.name not in kept]
    return left


@pytest.mark.parametrize('stop', sorted(STOPS))
@pytest.mark.parametrize('moment', sorted(MOMENTS))
def test_a_stop_at_any_moment_ends_the_run_the_documented_way(
        moment, stop, home, tmp_path):  # noqa: F811
    interrupt_at(moment, stop, home, tmp_path)


@pytest.mark.parametrize('moment', ['thread-step-program',
                                    'worker-step-program'])
def test_ctrl_c_on_a_busy_machine(moment, home, tmp_path,  # noqa: F811
                                  busy_machine):
    interrupt_at(moment, 'ctrl-c', home, tmp_path)


# A stop that lands in a finalizer: QIIME 2 drops its results' references
# to the cache in `weakref.finalize` callbacks as q2cli saves the outputs,
# and Python prints an exception raised there as "Exception ignored" and
# drops it (the run went on and wrote its outputs, exit 0).  Here the
# signal arrives, and its handler runs, inside such a callback.
SWALLOWED_STOP = textwrap.dedent('''\
    import signal, sys, weakref
    from q2_parallel.cli.stop_signals import StopSignals

    def drop_reference():
        signal.raise_signal(getattr(signal, sys.argv[1]))
        for _ in range(1000):  # Python runs the handler here
            pass

    class Result:
        pass

    try:
        with StopSignals() as signals:
            result = Result()
            weakref.finalize(result, drop_reference)
            del result
            print('saved')
            signals.raise_if_swallowed()
    except BaseException as stop:
        print(type(stop).__name__)
''')


@pytest.mark.parametrize('signal_name, raised', [
    ('SIGINT', 'KeyboardInterrupt'), ('SIGTERM', 'Terminated')])
def test_a_stop_raised_in_a_finalizer_is_not_lost(signal_name, raised):
    result = subprocess.run([sys.executable, '-c', SWALLOWED_STOP,
                             signal_name], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout == f'saved\n{raised}\n'
    assert result.stderr == ''  # no "Exception ignored in" traceback
