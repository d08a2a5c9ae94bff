"""Resuming a parallel run: run again after a failure, an interruption or a
kill, the same command reruns only the steps that did not finish, and its
outputs are those of a clean run (`--recycle-pool`, `--no-recycle`,
`--use-cache`, and `ParallelConfig(recycle_pool=...)` in Python).

The `cli-test` Pipeline makes two numbers, squares each and adds the
squares; `square` holds (CLI_TEST_HOLD) until the run is stopped, and each
step traces itself (CLI_TEST_TRACE), so a test sees which steps ran.
"""
import shutil
import signal
import subprocess
import sys
import zipfile

import pytest
from qiime2 import Artifact
from qiime2.core.cache import Cache
from qiime2.plugins import paralleltest

from q2_parallel import ParallelConfig
from tests.engine_support import (int_list, provenance_actions,
                                  thread_config)
from tests.helpers import parallel_config_toml
from tests.test_cli_run import wait_for_step
from tests.test_faults import QiimeRun, home  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

DEFAULT_POOL = 'recycle_cli_test_sum_of_squares'
CONFIGS = {
    'threads': parallel_config_toml(),
    'htex': parallel_config_toml(htex='htex', mapping={'square': 'htex'},
                                 heartbeat_period=1)}


class Runs:
    """`qiime cli-test sum-of-squares` runs in one folder, one cache."""

    def __init__(self, folder, home, config='threads'):  # noqa: F811
        self.folder = folder
        self.home = home
        self.config = folder / 'parallel.toml'
        self.config.write_text(CONFIGS[config])
        self.tmpdir = folder / 'tmp'
        self.tmpdir.mkdir()
        self.out = folder / 'out'
        self.started = 0

    def start(self, *options, a=2, b=3, hold=False, out=None):
        """Start a run; `trace()` tells which steps it ran."""
        self.started += 1
        self.trace_file = self.folder / f'trace-{self.started}'
        extra = {'CLI_TEST_HOLD': self.folder / 'go'} if hold else {}
        out = out or self.out
        out.mkdir(exist_ok=True)
        return QiimeRun(
            ['cli-test', 'sum-of-squares', '--p-a', a, '--p-b', b,
             '--o-total', out / 'total', '--o-square-of-a', out / 'square',
             '--parallel-config', self.config, *options],
            self.home, self.folder, TMPDIR=self.tmpdir,
            CLI_TEST_TRACE=self.trace_file, **extra)

    def stopped_while_squaring(self, stop, *options):
        """A run stopped (`stop(run)`) while both squares run."""
        run = self.start(*options, hold=True)
        wait_for_step(self.trace_file, 'square', run.process, times=2)
        stop(run)
        finished = run.finish(timeout=60)
        # Nothing of the run is left, even of a killed qiime (its watchdog
        # ends what it started).
        assert run.left_behind() == []
        return finished

    def trace(self):
        return sorted(line.split()[0] for line in
                      self.trace_file.read_text().splitlines())

    def pools(self, cache=None):
        cache = cache or self.tmpdir / 'qiime2' / 'root'
        return sorted(p.name for p in (cache / 'pools').iterdir())


def number(path):
    with zipfile.ZipFile(path) as archive:
        name, = [n for n in archive.namelist() if n.endswith('number.txt')]
        return int(archive.read(name))


def sigterm(run):
    run.process.send_signal(signal.SIGTERM)


def sigkill(run):
    run.process.kill()


@pytest.mark.parametrize('config', sorted(CONFIGS))
@pytest.mark.parametrize('stop', [sigterm, sigkill],
                         ids=['sigterm', 'sigkill'])
def test_a_stopped_run_run_again_reruns_only_what_did_not_finish(
        config, stop, home, tmp_path):  # noqa: F811
    runs = Runs(tmp_path, home, config)
    status, _, stderr = runs.stopped_while_squaring(stop)
    assert status != 0
    if stop is sigterm:
        assert (f'The results of its finished steps are kept in the recycle '
                f'pool {DEFAULT_POOL}') in stderr
    # (a killed run leaves its working pool too; the next run removes it)
    assert DEFAULT_POOL in runs.pools()

    status, _, stderr = runs.start().finish()
    assert status == 0, stderr
    assert runs.trace() == ['square', 'square', 'sum_of_squares']
    assert ('2 steps taken from the recycle pool '
            f'{DEFAULT_POOL}: cli-test make-number (2)') in stderr
    assert number(runs.out / 'total.qza') == 13
    assert number(runs.out / 'square.qza') == 4
    assert runs.pools() == []  # the default pool goes with a success


def test_changed_parameters_rerun_the_steps_they_reach(
        home, tmp_path):  # noqa: F811
    runs = Runs(tmp_path, home)
    status, _, stderr = runs.start('--recycle-pool', 'mine').finish()
    assert status == 0, stderr
    assert runs.pools() == ['mine']  # a named pool is kept

    status, _, stderr = runs.start('--recycle-pool', 'mine', a=5,
                                   out=tmp_path / 'again').finish()
    assert status == 0, stderr
    # make_number(3) and square(9) are reused; 5 is new, and so is the sum
    assert runs.trace() == ['make_number', 'square', 'sum_of_squares']
    assert ('2 steps taken from the recycle pool mine: cli-test '
            'make-number, cli-test square') in stderr
    assert number(tmp_path / 'again' / 'total.qza') == 34
    assert number(tmp_path / 'again' / 'square.qza') == 25


def test_no_recycle_keeps_and_reuses_nothing(home, tmp_path):  # noqa: F811
    runs = Runs(tmp_path, home)
    status, _, stderr = runs.stopped_while_squaring(sigterm, '--no-recycle')
    assert status == 143
    assert 'recycle pool' not in stderr
    assert runs.pools() == []


def test_use_cache_holds_the_pool_and_a_lost_entry_is_recomputed(
        home, tmp_path):  # noqa: F811
    runs = Runs(tmp_path, home)
    cache = tmp_path / 'shared-cache'
    options = ('--use-cache', cache, '--recycle-pool', 'mine')
    status, _, stderr = runs.start(*options).finish()
    assert status == 0, stderr
    assert runs.pools(cache) == ['mine']
    assert not (runs.tmpdir / 'qiime2').exists()
    # The data of one kept result disappears (removed by hand, a disk
    # cleaner...): its step runs again, and the run says so.
    lost, *_ = (cache / 'pools' / 'mine').iterdir()
    shutil.rmtree(cache / 'data' / lost.name)
    status, _, stderr = runs.start(*options, out=tmp_path / 'b').finish()
    assert status == 0, stderr
    assert 'run again: their results had been lost from the recycle ' \
        'pool mine' in stderr
    assert number(tmp_path / 'b' / 'total.qza') == 13


def test_two_runs_with_one_pool_at_once_both_finish(
        home, tmp_path):  # noqa: F811
    runs = Runs(tmp_path, home, 'htex')
    started = [runs.start('--recycle-pool', 'shared', out=tmp_path / name)
               for name in ('one', 'two')]
    for run in started:
        status, _, stderr = run.finish()
        assert status == 0, stderr
    for name in ('one', 'two'):
        assert number(tmp_path / name / 'total.qza') == 13


def test_recycling_options_need_a_parallel_run(home, tmp_path):  # noqa: F811
    runs = Runs(tmp_path, home)
    run = QiimeRun(['cli-test', 'sum-of-squares', '--p-a', 2, '--p-b', 3,
                    '--o-total', tmp_path / 'total', '--o-square-of-a',
                    tmp_path / 'square', '--recycle-pool', 'mine'],
                   home, tmp_path, TMPDIR=runs.tmpdir)
    status, _, stderr = run.finish()
    assert status == 2
    assert '--recycle-pool works only in a parallel run' in stderr


def test_python_rerun_in_a_pool_reuses_the_finished_steps(tmp_path):
    ints = int_list(range(8))
    cache = Cache(str(tmp_path / 'cache'))
    with cache:
        with ParallelConfig(thread_config(), {}, recycle_pool='py') as pc:
            first, = paralleltest.pipelines.square_all.parallel(
                ints, partitions=4)._result()
        assert pc.recycled == {'reused': [], 'recomputed': []}
        with ParallelConfig(thread_config(), {}) as pc:
            with cache.create_pool(keys=['py'], reuse=True):
                again, = paralleltest.pipelines.square_all.parallel(
                    ints, partitions=4)._result()
        assert sorted(set(pc.recycled['reused'])) == [
            'paralleltest:merge_ints', 'paralleltest:split_ints',
            'paralleltest:square']
        assert again.view(list) == first.view(list) == [
            i * i for i in range(8)]
        assert isinstance(again, Artifact)
        # the same actions, parameters and lineage as the first run
        assert provenance_actions(again) == provenance_actions(first)
        assert again.uuid != first.uuid


def test_kept_lists_and_removes_pools_and_log_folders(
        home, tmp_path):  # noqa: F811
    runs = Runs(tmp_path, home)
    runs.config.write_text(parallel_config_toml(run_dir=tmp_path / 'logs'))
    status, _, stderr = runs.stopped_while_squaring(sigterm)
    assert status == 143
    kept = [sys.executable, '-m', 'q2_parallel.kept', '--cache',
            str(runs.tmpdir / 'qiime2' / 'root'), '--run-dir',
            str(tmp_path / 'logs')]
    listed = subprocess.run(kept, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    folder, = (tmp_path / 'logs').iterdir()
    assert f'  {DEFAULT_POOL}  2 steps, ' in listed.stdout
    assert f'  {folder.name}  ' in listed.stdout

    unknown = subprocess.run([*kept, 'remove', 'nothing_here'],
                             capture_output=True, text=True)
    assert unknown.returncode == 1
    assert 'Nothing is kept under the name nothing_here' in unknown.stderr

    removed = subprocess.run([*kept, 'remove', DEFAULT_POOL, folder.name],
                             capture_output=True, text=True)
    assert removed.returncode == 0, removed.stderr
    assert runs.pools() == [] and not folder.exists()
