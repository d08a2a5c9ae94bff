"""Faults of a parallel run end in bounded time, with a clear message, no
partial output and no process left: an HTEX worker killed mid-step, SIGTERM
to `qiime`, a full disk, and two runs at once with the same config.

Covered elsewhere: a step that raises or ends its worker, a killed worker
with retries (test_engine.py), Ctrl-C and SIGTERM at every moment of a run
(test_interrupts.py), the Slurm job cancelled with `scancel` (the cluster
tests).
"""
import fcntl
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest
from qiime2 import Artifact
from qiime2.plugins import paralleltest

from q2_parallel import ParallelConfig
from tests.engine_support import int_list, mixed_config, resources
from tests.helpers import QIIME, parallel_config_toml, run_qiime
from tests.test_cli_deployment import (install_cli_test_plugin, plugin_env,
                                       words)
from tests.test_cli_run import wait_for_step

# Slow: kills real workers and qiime processes.
pytestmark = pytest.mark.slow

# How long a run may take before the test calls it stuck.
RUN_TIMEOUT = 120
# Enough integers that their squares do not fit in the small disks below.
BIG = 100_000


def config_file(folder, htex_action=None):
    """A config file: a thread pool, and HTEX for `htex_action` if given."""
    path = Path(folder) / 'parallel.toml'
    path.write_text(parallel_config_toml() if htex_action is None
                    else parallel_config_toml(htex='htex', heartbeat_period=1,
                                              mapping={htex_action: 'htex'}))
    return path


def checksum(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope='module')
def home(tmp_path_factory):
    """A HOME shared by this module's `qiime` runs (one account), whose
    q2cli cache is built once, with the `cli-test` plugin installed."""
    home = tmp_path_factory.mktemp('home')
    plugins = install_cli_test_plugin(tmp_path_factory.mktemp('plugins'))
    env = plugin_env(home, plugins)
    built = run_qiime('paralleltest', '--help', env=env)
    assert built.returncode == 0, built.stderr
    return env


@pytest.fixture(scope='module')
def small_ints(tmp_path_factory):
    path = tmp_path_factory.mktemp('inputs') / 'ints.qza'
    int_list(range(30)).save(str(path))
    return path


@pytest.fixture(scope='module')
def big_ints(tmp_path_factory):
    path = tmp_path_factory.mktemp('inputs') / 'big.qza'
    int_list(range(BIG)).save(str(path))
    return path


@pytest.fixture
def small_disk(tmp_path):
    """Mount a tmpfs of the given size in KiB; unmounted at the end."""
    mounted = []

    def mount(kib):
        point = tmp_path / f'disk-{len(mounted)}'
        point.mkdir()
        done = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={kib}k',
                               'tmpfs', str(point)], capture_output=True,
                              text=True)
        if done.returncode != 0:
            pytest.skip(f'cannot mount a small tmpfs here: {done.stderr}')
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        if subprocess.run(['umount', str(point)]).returncode != 0:
            subprocess.run(['umount', '--lazy', str(point)])


class QiimeRun:
    """The real `qiime` in a subprocess, remembering every process of the
    run while it lasts: its descendants (the HTEX interchange rewrites its
    environment along with its title) and the processes with its marker
    variable (HTEX workers are started through a shell that exits, so they
    are nobody's descendants).  Output goes to files, which a leftover
    helper cannot hold open the way it holds a pipe."""

    def __init__(self, args, env, folder, terminal=False, **extra_env):
        self.marker = uuid.uuid4().hex
        self.env = {**env, 'Q2P_FAULT_RUN': self.marker,
                    **{k: str(v) for k, v in extra_env.items()}}
        self.folder = Path(folder)
        self._out = open(self.folder / 'stdout.txt', 'w+')
        self._err = open(self.folder / 'stderr.txt', 'w+')
        self.terminal = _Terminal() if terminal else None
        self.process = subprocess.Popen(
            [str(QIIME), *map(str, args)], env=self.env, cwd=folder,
            stdout=self._out, text=True,
            start_new_session=True,  # its own process group, for killpg
            **(self.terminal.streams() if terminal else
               {'stderr': self._err}))
        if terminal:
            self.terminal.attached()
        self.started = set()
        self._ended = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def _watch(self):
        try:
            qiime = psutil.Process(self.process.pid)
            while not self._ended.wait(0.25):
                self.started.update(qiime.children(recursive=True))
                self.started.update(_processes_with(self.marker))
        except psutil.NoSuchProcess:
            pass

    def finish(self, timeout=RUN_TIMEOUT):
        """Wait for `qiime` to end: (exit status, stdout, stderr)."""
        try:
            self.process.wait(timeout=timeout)
        finally:
            self._ended.set()
            self._watcher.join()
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self._out.seek(0)
        self._err.seek(0)
        with self._out, self._err:
            stderr = (self._err.read() if self.terminal is None
                      else self.terminal.close())
            return self.process.returncode, self._out.read(), stderr

    def ctrl_c(self):
        """Press Ctrl-C on the run's terminal."""
        self.terminal.press(b'\x03')

    def left_behind(self):
        """The run's processes still alive a grace time after `qiime`
        ended (zombies are ended); killed, so that a failing test leaks
        nothing."""
        candidates = self.started | set(_processes_with(self.marker))
        _, alive = psutil.wait_procs(list(candidates), timeout=10)
        left = []
        for process in alive:
            try:
                if process.status() == psutil.STATUS_ZOMBIE:
                    continue
                left.append((process.pid, ' '.join(process.cmdline()[:2])))
                process.kill()
            except psutil.NoSuchProcess:
                pass
        return left


class _Terminal:
    """A pseudo-terminal that a `qiime` run has as its controlling
    terminal (stdin and stderr), as in a shell: Ctrl-C pressed on it sends
    SIGINT to the run's whole process group.  What the run shows is read
    as it comes, so that the run never waits for the terminal."""

    def __init__(self):
        self._master, self._slave = os.openpty()
        self._shown = []
        self._reader = threading.Thread(target=self._read, daemon=True)

    def streams(self):
        return {'stdin': self._slave, 'stderr': self._slave,
                'preexec_fn': _take_controlling_terminal}

    def attached(self):
        os.close(self._slave)
        self._reader.start()

    def _read(self):
        while True:
            try:
                chunk = os.read(self._master, 4096)
            except OSError:  # every process of the run closed it
                return
            if not chunk:
                return
            self._shown.append(chunk)

    def press(self, keys):
        os.write(self._master, keys)

    def close(self):
        """What the terminal showed, with its \\r\\n line ends as \\n."""
        self._reader.join(timeout=10)
        os.close(self._master)
        return b''.join(self._shown).decode(errors='replace').replace(
            '\r\n', '\n')


def _take_controlling_terminal():
    """In the child, a session leader by now: make stdin (the pseudo-
    terminal) its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _processes_with(marker):
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get('Q2P_FAULT_RUN') == marker:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
            pass
    return found


def square_all(home, folder, ints, output, config, **extra_env):
    """Start `qiime paralleltest square-all` into `output`."""
    return QiimeRun(['paralleltest', 'square-all', '--i-ints', ints,
                     '--p-partitions', '4', '--o-squared', output,
                     '--parallel-config', config], home, folder, **extra_env)


def slow_sum_of_squares(home, folder, htex_action, **extra_env):
    """Start `qiime cli-test sum-of-squares` with 60 s steps, its outputs
    going to ``folder/out`` (which must exist), `htex_action` on HTEX."""
    return QiimeRun(['cli-test', 'sum-of-squares', '--p-a', '2', '--p-b',
                     '3', '--p-delay', '60', '--o-total',
                     folder / 'out' / 'total', '--o-square-of-a',
                     folder / 'out' / 'square', '--parallel-config',
                     config_file(folder, htex_action)],
                    home, folder, TMPDIR=folder, **extra_env)


# An HTEX worker killed with SIGKILL in the middle of a step.

def test_killed_worker_fails_the_run_naming_the_step():
    before = resources()
    outcome = {}

    def run():
        with tempfile.TemporaryDirectory() as record_dir:
            try:
                with ParallelConfig(mixed_config(), {'kill_worker': 'htex'}):
                    paralleltest.pipelines.square_then_die.parallel(
                        int_list(range(30)), how='kill', delay=0.5,
                        record_dir=record_dir)._result()
            except Exception as error:
                outcome['error'] = error

    runner = threading.Thread(target=run)
    runner.start()
    runner.join(RUN_TIMEOUT)
    assert not runner.is_alive(), 'the run did not end'
    error = outcome['error']
    assert error.parallel_step == 'paralleltest:kill_worker'
    assert type(error).__name__ == 'WorkerLost'
    assert 'loss of worker' in str(error)
    assert resources()['children'] == before['children']


def test_cli_killed_worker_fails_naming_the_step_and_leaves_nothing(
        home, small_ints, tmp_path):
    run = QiimeRun(['paralleltest', 'square-then-die', '--i-ints',
                    small_ints, '--p-how', 'kill', '--p-delay', '0.5',
                    '--p-record-dir', tmp_path, '--o-survived',
                    tmp_path / 'survived', '--parallel-config',
                    config_file(tmp_path, 'kill_worker')],
                   home, tmp_path, TMPDIR=tmp_path)
    status, _, stderr = run.finish()
    assert status == 1, stderr
    stderr = words(stderr)
    assert ('The step paralleltest kill-worker of this pipeline failed, so '
            'no output was written.') in stderr
    assert 'WorkerLost: Task failure due to loss of worker' in stderr
    assert '`retries = N` in the [parsl] table reruns such steps' in stderr
    assert not list(tmp_path.glob('survived*'))
    assert len(run.started) > 2  # the interchange and the worker pool
    assert run.left_behind() == []


# HTEX's interchange killed in the middle of a step (by hand, or by the
# system for lack of memory): Parsl would wait forever for the step's
# result, and its job status poller for the interchange's answers.
def test_killed_interchange_fails_the_run_instead_of_hanging(home, tmp_path):
    trace = tmp_path / 'trace'
    (tmp_path / 'out').mkdir()
    run = slow_sum_of_squares(home, tmp_path, 'square',
                              CLI_TEST_TRACE=trace)
    wait_for_step(trace, 'square', run.process)
    _interchange(psutil.Process(run.process.pid)).kill()
    status, stdout, stderr = run.finish(timeout=60)
    assert status == 1, stderr
    stderr = words(stderr)
    assert ("The interchange of the executor 'htex' (the HTEX process that "
            'passes steps to its workers and their results back) ended '
            'while the run needed it: exit status 137, killed by SIGKILL. '
            'The ') in stderr
    assert 'step(s) sent to it cannot finish, so the run stops.' in stderr
    assert "Parsl's logs of this run are kept in " in stderr
    assert 'Traceback' not in stderr and stdout == ''
    assert list((tmp_path / 'out').iterdir()) == []
    assert run.left_behind() == []


# SIGTERM in the middle of a step.  Each moment of a run, with Ctrl-C and
# SIGTERM, is in test_interrupts.py; here: a step in a thread that Python
# cannot stop (it sleeps), and SIGTERM to the whole process group, which
# ends the HTEX interchange at once too.
@pytest.mark.parametrize('htex_action, to_group', [(None, False),
                                                   ('square', True)],
                         ids=['threads-unstoppable-step',
                              'htex-process-group'])
def test_sigterm_stops_the_run_and_leaves_nothing(home, tmp_path,
                                                  htex_action, to_group):
    trace = tmp_path / 'trace'
    (tmp_path / 'out').mkdir()
    run = slow_sum_of_squares(home, tmp_path, htex_action,
                              CLI_TEST_TRACE=trace)
    wait_for_step(trace, 'square', run.process)
    if to_group:
        os.killpg(run.process.pid, signal.SIGTERM)
    else:
        run.process.send_signal(signal.SIGTERM)
    status, stdout, stderr = run.finish(timeout=30)
    assert status == 143, stderr
    assert ('Terminated: stopping every parallel step; no output is '
            "written. Parsl's logs of this run are kept in ") in stderr
    assert 'Traceback' not in stderr and stdout == ''
    assert list((tmp_path / 'out').iterdir()) == []
    assert list(tmp_path.glob('qiime2-q2cli-err-*')) == []
    if htex_action:  # qiime, the interchange and the workers
        assert len(run.started) > 2
    assert run.left_behind() == []
    # QIIME 2's temporary folders of the step still running are gone too
    assert list(tmp_path.glob('qiime2-*')) == []


# SIGKILL to `qiime` the moment HTEX's interchange listens for workers,
# before the run's watchdog has looked at its processes: the interchange,
# forked from the run's fork server, ends with the client Parsl started it
# through, which carries the run's mark.
def test_sigkill_as_the_interchange_starts_leaves_nothing(home, tmp_path):
    (tmp_path / 'out').mkdir()
    run = slow_sum_of_squares(home, tmp_path, 'square')
    qiime = psutil.Process(run.process.pid)
    while not (interchange := _interchange(qiime)):
        assert run.process.poll() is None, 'the run ended before its HTEX'
        time.sleep(0.01)
    run.process.kill()
    run.started.add(interchange)
    status, _, _ = run.finish(timeout=30)
    assert status == -signal.SIGKILL
    assert run.left_behind() == []


def _interchange(qiime):
    """HTEX's interchange, once ``qiime`` has started it and it listens
    (the only process of the run that listens on a TCP port)."""
    for child in qiime.children(recursive=True):
        try:
            if any(connection.status == psutil.CONN_LISTEN
                   for connection in child.net_connections()):
                return child
        except psutil.NoSuchProcess:
            pass
    return None


# The end of the test above, with the timing made certain.  6 s after the
# stop, the deadline's thread and the main thread (whose own wait for the
# steps ends milliseconds later) both call `_exit_now`; the second found the
# finalizers already taken by the first and ended the process while the
# first was still removing the folders (a third of runs on a busy machine).
TWO_EXITS = textwrap.dedent('''\
    import shutil, threading, time
    from qiime2.core.path import ProvenancePath
    from q2_parallel.cli import run

    folders = [ProvenancePath() for _ in range(3)]
    removing, rmtree = threading.Event(), shutil.rmtree

    def slow_rmtree(*args, **kwargs):  # a busy machine
        removing.set()
        time.sleep(0.5)
        rmtree(*args, **kwargs)

    shutil.rmtree = slow_rmtree
    run.EXIT_GRACE_SECONDS = 0.1
    run._report_stop('Terminated', 143, None)  # starts the deadline
    removing.wait()
    run._exit_now(143, None)  # the main thread's wait for the steps ended
''')


def test_two_threads_ending_a_stopped_run_leave_nothing(tmp_path):
    result = subprocess.run([sys.executable, '-c', TWO_EXITS],
                            env={**os.environ, 'TMPDIR': str(tmp_path)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 143, result.stderr
    assert list(tmp_path.glob('qiime2-*')) == []


# A full disk, for an intermediate result (QIIME 2's cache is under TMPDIR)
# and for a final one (the `--o-…` folder).

@pytest.mark.parametrize('htex_action', [None, 'square'],
                         ids=['threads', 'htex'])
def test_full_disk_for_intermediate_results_is_named(
        home, big_ints, small_disk, tmp_path, htex_action):
    tmpdir = small_disk(2048)
    earlier = tmp_path / 'earlier.qza'
    int_list([1, 2]).save(str(earlier))
    untouched = {path: checksum(path) for path in (big_ints, earlier)}
    run = square_all(home, tmp_path, big_ints, tmp_path / 'squared',
                     config_file(tmp_path, htex_action), TMPDIR=tmpdir)
    status, _, stderr = run.finish()
    assert status == 1, stderr
    stderr = words(stderr)
    assert '[Errno 28] No space left on device' in stderr
    assert len(stderr) < 2000  # not every file that could not be copied
    assert (f"The disk holding QIIME 2's cache, {tmpdir}/qiime2/"
            in stderr), stderr
    assert 'set TMPDIR to a folder on a disk with more room' in stderr
    assert {path: checksum(path) for path in untouched} == untouched
    assert not list(tmp_path.glob('squared*'))
    assert run.left_behind() == []


def test_full_disk_for_the_final_output_is_named(
        home, big_ints, small_disk, tmp_path):
    out = small_disk(1024)
    earlier = out / 'earlier.qza'
    earlier.write_bytes(os.urandom(900 * 1024))  # leaves ~120 KiB free
    untouched = {path: checksum(path) for path in (big_ints, earlier)}
    run = square_all(home, tmp_path, big_ints, out / 'squared',
                     config_file(tmp_path), TMPDIR=tmp_path)
    status, _, stderr = run.finish()
    assert status == 1, stderr
    stderr = words(stderr)
    assert 'The outputs could not be saved, so none was kept' in stderr
    assert '[Errno 28] No space left on device' in stderr
    assert f'The disk holding {out} is full' in stderr
    assert {path: checksum(path) for path in untouched} == untouched
    assert sorted(p.name for p in out.iterdir()) == ['earlier.qza']
    assert run.left_behind() == []


# Two runs at once, in one account, with one config file.

def test_two_runs_at_once_with_the_same_config_both_complete(
        home, small_ints, tmp_path):
    config = config_file(tmp_path, 'square')
    runs = []
    for name in ('first', 'second'):
        (tmp_path / name).mkdir()
        runs.append(square_all(home, tmp_path / name, small_ints,
                               tmp_path / name / 'squared', config))
    finished = [run.finish() for run in runs]
    for status, stdout, stderr in finished:
        assert status == 0, stderr
        assert 'Saved IntList to' in stdout
    for name in ('first', 'second'):
        squared = Artifact.load(str(tmp_path / name / 'squared.qza'))
        assert squared.view(list) == [n * n for n in range(30)]
    assert all(run.left_behind() == [] for run in runs)


def test_htex_run_leaves_no_intermediate_results_under_tmpdir(
        home, small_ints, tmp_path):
    tmpdir = tmp_path / 'tmp'
    tmpdir.mkdir()
    run = square_all(home, tmp_path, small_ints, tmp_path / 'squared',
                     config_file(tmp_path, 'square'), TMPDIR=tmpdir)
    status, _, stderr = run.finish()
    assert status == 0, stderr
    assert run.left_behind() == []
    left = [p.relative_to(tmpdir) for p in tmpdir.rglob('*')
            if p.is_file() and p.name != 'VERSION']  # the cache's own
    assert left == []
