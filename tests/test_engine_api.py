"""What a Python user sees of the engine's objects: stand-ins that can be
shown whatever happened to their step, actions inside a Pipeline that check
their arguments at the call, and blocks in several threads at once."""
import os
import sys
import threading
import time

import pytest
import qiime2.sdk
from qiime2.plugin import Plugin
from qiime2.plugins import paralleltest

from q2_parallel import ParallelConfig
from tests.engine_support import int_list, thread_config

BIN_DIR = os.path.dirname(sys.executable)


def test_repr_of_a_failed_step_names_the_failure_without_raising():
    with ParallelConfig(thread_config(), {}):
        results = paralleltest.methods.fail.parallel(int_list([1]),
                                                     message='broken input')
        with pytest.raises(ValueError):
            results._result()
        shown = repr(results)
        shown_output = repr(results.failed)
    assert 'paralleltest:fail, failed' in shown
    assert 'broken input' in shown
    assert shown_output.startswith('<artifact: failed of paralleltest:fail,'
                                   ' failed: ValueError(')


def test_repr_of_a_finished_step_is_its_result():
    with ParallelConfig(thread_config(), {}):
        results = paralleltest.methods.square.parallel(int_list([2]))
        squared = results._result().squared
        assert repr(results.squared) == repr(squared)


def _call_with_a_wrong_argument(ctx, ints):
    square = ctx.get_action('paralleltest', 'square')
    calls.append(square.__name__)
    square(ints=ints, power=3)


calls = []
_plugin = Plugin(name='wrong-call', version='0.0.1',
                 website='https://qiime2.org', package='tests',
                 project_name='wrong-call')
_plugin.pipelines.register_function(
    function=_call_with_a_wrong_argument,
    inputs={'ints': paralleltest.methods.square.signature.inputs['ints']
            .qiime_type},
    parameters={}, outputs=[('never', paralleltest.methods.square
                             .signature.outputs['squared'].qiime_type)],
    name='Wrong call', description='Calls square with a wrong argument.')


def test_a_wrong_argument_in_a_pipeline_fails_at_the_call():
    qiime2.sdk.PluginManager().add_plugin(_plugin)
    pipeline = qiime2.sdk.PluginManager().plugins['wrong-call'] \
        .actions['_call_with_a_wrong_argument']
    with ParallelConfig(thread_config(), {}) as config:
        with pytest.raises(TypeError, match='power'):
            pipeline.parallel(int_list([1]))._result()
        assert config.progress().done == 0  # square was never submitted
    assert calls == ['square']


def test_blocks_in_two_threads_overlapping_in_any_order(monkeypatch):
    """The first block in puts this Python's bin/ on PATH, the last one out
    takes it away, whichever thread leaves first."""
    monkeypatch.setenv('PATH', os.pathsep.join(
        part for part in os.environ['PATH'].split(os.pathsep)
        if part != BIN_DIR))
    path_before = os.environ['PATH']
    inside = threading.Barrier(2)
    first_out = threading.Event()
    seen, errors = [], []

    def block(leave_first):
        try:
            with ParallelConfig(thread_config(), {}):
                inside.wait(timeout=60)
                squared = paralleltest.methods.square.parallel(
                    int_list([3]))._result().squared.view(list)
                seen.append((squared,
                             BIN_DIR in os.environ['PATH'].split(os.pathsep)))
                if leave_first:
                    first_out.set()
                else:
                    first_out.wait(timeout=60)
                    seen.append(('after the first left', BIN_DIR in
                                 os.environ['PATH'].split(os.pathsep)))
        except BaseException as error:  # reported below, in the test thread
            errors.append(error)

    threads = [threading.Thread(target=block, args=(first,))
               for first in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert ([9], True) in seen and seen.count(([9], True)) == 2
    assert ('after the first left', True) in seen
    assert os.environ['PATH'] == path_before


FAILING_SCRIPT = """
from qiime2 import Artifact
from qiime2.plugins import paralleltest
from q2_parallel import ParallelConfig
from tests.engine_support import thread_config
ints = Artifact.import_data('IntList', [1, 2])
with ParallelConfig(thread_config(), {}):
    paralleltest.pipelines.square_then_fail.parallel(ints)._result()
"""


@pytest.mark.slow  # a Python subprocess
def test_an_uncaught_step_failure_shows_the_step_and_the_logs(tmp_path):
    """On every Python (3.8 shows no exception notes), the traceback names
    the failed step and where Parsl's logs are kept."""
    import subprocess

    from tests.helpers import REPO, isolated_env

    result = subprocess.run([sys.executable, '-c', FAILING_SCRIPT],
                            capture_output=True, text=True, timeout=300,
                            cwd=REPO, env=isolated_env(tmp_path))
    assert result.returncode == 1
    last_lines = result.stderr.strip().splitlines()[-3:]
    assert last_lines[0].startswith('ValueError: ')
    assert any('(raised by the step paralleltest:fail of a parallel run)'
               in line for line in last_lines)
    assert last_lines[-1].startswith('Parsl logs of this run: ')


def test_a_mapping_typo_is_said_once_and_the_run_goes_on(capfd):
    config = thread_config()
    for _ in range(2):
        typos = {'sqaure': 'default',
                 'paralleltest': {'square-al': 'default'}}
        with ParallelConfig(config, typos):
            results = paralleltest.methods.square.parallel(int_list([4]))
            assert results._result().squared.view(list) == [16]
    warnings = [line for line in capfd.readouterr().err.splitlines()
                if line.startswith('q2-parallel: warning:')]
    assert len(warnings) == 2  # once, not once per block
    assert warnings[0].startswith(
        'q2-parallel: warning: key `parsl.executor_mapping.sqaure`: names no'
        ' action of any installed plugin. Did you mean "square"')
    assert warnings[1].startswith(
        'q2-parallel: warning: key'
        ' `parsl.executor_mapping.paralleltest.square-al`: names no action'
        ' of the plugin paralleltest. Did you mean "square-all"')
    assert all(w.endswith(' It maps nothing here.') for w in warnings)


def test_a_config_that_runs_one_step_at_a_time_says_so_once(capfd):
    for threads in (1, 1, 2):
        with ParallelConfig(thread_config(threads=threads), {}):
            paralleltest.methods.square.parallel(int_list([5]))._result()
    notes = [line for line in capfd.readouterr().err.splitlines()
             if line.startswith('q2-parallel: note:')]
    assert notes == [
        'q2-parallel: note: this parallel config runs one step at a time, so'
        ' a parallel run is no faster than a serial one. For steps to'
        ' overlap, raise max_threads (ThreadPoolExecutor) or'
        ' max_workers_per_node (HighThroughputExecutor), or map steps to an'
        ' executor with more workers.']


def test_failed_runs_keep_the_logs_of_the_newest_twenty_only(tmp_path):
    """Each failed run keeps its log folder; a run removes those of runs
    that ended long ago beyond the twenty newest, but never one that was
    written to lately (its run may still be going)."""
    run_dir = tmp_path / 'runinfo'
    old = time.time() - 2 * 3600
    for n in range(25):
        folder = run_dir / f'run-20260101-0000{n:02}-old{n:02}'
        (folder / '000').mkdir(parents=True)
        (folder / '000' / 'parsl.log').write_text('log')
        for path in (folder / '000' / 'parsl.log', folder / '000', folder):
            os.utime(path, (old, old))
    (run_dir / 'run-20260101-000000-old00' / '000' / 'parsl.log').touch()
    config = thread_config()
    config.run_dir = str(run_dir)
    ints = int_list([1, 2])
    with pytest.raises(ValueError):
        with ParallelConfig(config, {}):
            paralleltest.pipelines.square_then_fail.parallel(ints)._result()
    kept = sorted(p.name for p in run_dir.iterdir())
    # the 20 newest: 19 old ones and this run's; and the one written lately
    assert len(kept) == 21
    assert kept[0] == 'run-20260101-000000-old00'
    assert kept[1:20] == [f'run-20260101-0000{n:02}-old{n:02}'
                          for n in range(6, 25)]
    assert kept[20].startswith(time.strftime('run-%Y%m%d-'))
