"""The parallel engine through the Python API, on real Parsl executors."""
import glob
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import psutil
import pytest

from qiime2 import Artifact
from qiime2.plugins import paralleltest

from q2_parallel import ParallelConfig
from q2_parallel.config import ConfigError
from q2_parallel.engine import ParallelError
from tests.engine_support import (int_list, mixed_config, provenance_actions,
                                  resources, step_notes, thread_config)


# A run whose process dies inside its block, printing its pool's name.
KILLED_RUN = """
import os
from qiime2 import Artifact
from qiime2.plugins import paralleltest
from q2_parallel import ParallelConfig
from tests.engine_support import thread_config
ints = Artifact.import_data('IntList', [1, 2])
with ParallelConfig(thread_config(), {}) as config:
    paralleltest.methods.square.parallel(ints)._result()
    print(config.session.run_pool.name, flush=True)
    os._exit(9)
"""


class ThreadPoolRunTests(unittest.TestCase):
    def setUp(self):
        self.ints = int_list(range(30))
        self.serial = paralleltest.pipelines.square_all(self.ints,
                                                        partitions=4)

    def test_results_equal_serial_run(self):
        with ParallelConfig(thread_config(), {}):
            future = paralleltest.pipelines.square_all.parallel(
                self.ints, partitions=4)
            result = future._result()
        self.assertEqual(result.squared.view(list),
                         self.serial.squared.view(list))
        self.assertEqual(str(result.squared.type), 'IntList')
        self.assertEqual(provenance_actions(result.squared),
                         provenance_actions(self.serial.squared))
        self.assertEqual(self.ints.view(list), list(range(30)))

    def test_nested_pipeline_equals_serial_run(self):
        serial = paralleltest.pipelines.nested_square(self.ints, partitions=2)
        with ParallelConfig(thread_config(), {}):
            result = paralleltest.pipelines.nested_square.parallel(
                self.ints, partitions=2).result()
        self.assertEqual(result.merged.view(list), serial.merged.view(list))
        self.assertEqual(provenance_actions(result.merged),
                         provenance_actions(serial.merged))

    def test_independent_steps_overlap(self):
        with tempfile.TemporaryDirectory() as record_dir:
            with ParallelConfig(thread_config(threads=4), {}):
                paralleltest.pipelines.square_all.parallel(
                    self.ints, partitions=4, delay=0.5,
                    record_dir=record_dir)._result()
            notes = step_notes(record_dir)
        self.assertEqual(len(notes), 4)
        latest_start = max(n['start'] for n in notes)
        earliest_end = min(n['end'] for n in notes)
        self.assertLess(latest_start, earliest_end)

    def test_pipeline_looking_inside_intermediate_results(self):
        serial = paralleltest.pipelines.peek_sum(self.ints, partitions=3)
        with ParallelConfig(thread_config(), {}):
            result = paralleltest.pipelines.peek_sum.parallel(
                self.ints, partitions=3)._result()
        self.assertEqual(result.merged.view(list), serial.merged.view(list))

    def test_stand_ins_behave_like_results(self):
        with ParallelConfig(thread_config(), {}):
            future = paralleltest.methods.split_ints.parallel(
                self.ints, part=1, partitions=3)
            self.assertEqual(len(future), 1)
            self.assertEqual(future._fields, ('part',))
            part, = future
            self.assertIs(future.part, future[0])
            self.assertTrue(hasattr(future.part, 'view'))
            self.assertIsInstance(future.part, Artifact)
            self.assertEqual(part.view(list), list(range(1, 30, 3)))
            self.assertIn('IntList', repr(future))
            self.assertEqual(future, future._result())

    def test_method_runs_as_one_step(self):
        with ParallelConfig(thread_config(), {}) as config:
            result = paralleltest.methods.square.parallel(self.ints).result()
            self.assertEqual(config.progress().done, 1)
        self.assertEqual(result.squared.view(list),
                         [n * n for n in range(30)])

    def test_failing_step_raises_its_own_error(self):
        before = resources()
        with self.assertRaises(ValueError) as caught:
            with ParallelConfig(thread_config(), {}) as config:
                paralleltest.pipelines.square_then_fail.parallel(
                    self.ints, message='bad partition')._result()
        self.assertIn('bad partition', str(caught.exception))
        self.assertEqual(caught.exception.parallel_step, 'paralleltest:fail')
        self.assertTrue(any('paralleltest:fail' in note
                            for note in caught.exception.__notes__))
        counts = config.progress()
        self.assertEqual(counts.done, 3)  # square, fail, merge (not run)
        self.assertEqual(resources()['threads'], before['threads'])

    def test_parallel_outside_a_block_is_a_clear_error(self):
        with self.assertRaisesRegex(ParallelError, 'with ParallelConfig'):
            paralleltest.pipelines.square_all.parallel(self.ints)

    def test_nested_blocks_are_a_clear_error(self):
        with ParallelConfig(thread_config(), {}):
            with self.assertRaisesRegex(ParallelError, 'cannot be nested'):
                with ParallelConfig(thread_config(), {}):
                    pass
            result = paralleltest.methods.square.parallel(self.ints)
            self.assertEqual(len(result.squared.view(list)), 30)

    def test_bad_mapping_fails_before_anything_starts(self):
        before = resources()
        with self.assertRaisesRegex(ConfigError, 'nowhere'):
            with ParallelConfig(thread_config(), {'square': 'nowhere'}):
                self.fail('the block must not run')
        self.assertEqual(resources(), before)
        with ParallelConfig(thread_config(), {}):
            paralleltest.methods.square.parallel(self.ints)._result()

    def test_usable_from_another_thread(self):
        outcome = {}

        def run():
            with ParallelConfig(thread_config(), {}):
                outcome['result'] = paralleltest.pipelines.square_all.parallel(
                    self.ints, partitions=3)._result()

        worker = threading.Thread(target=run)
        worker.start()
        worker.join(120)
        self.assertEqual(outcome['result'].squared.view(list),
                         self.serial.squared.view(list))

    def test_same_config_object_in_two_blocks(self):
        config = thread_config()
        for _ in range(2):
            with ParallelConfig(config, {}):
                result = paralleltest.pipelines.square_all.parallel(
                    self.ints, partitions=2)._result()
            self.assertEqual(result.squared.view(list),
                             self.serial.squared.view(list))

    @pytest.mark.slow  # ten runs
    def test_ten_blocks_in_a_row_leave_nothing_behind(self):
        with ParallelConfig(thread_config(), {}):
            paralleltest.pipelines.square_all.parallel(self.ints)._result()
        before = resources()
        for _ in range(10):
            with ParallelConfig(thread_config(), {}):
                paralleltest.pipelines.square_all.parallel(
                    self.ints)._result()
        self.assertEqual(resources(), before)

    def test_nothing_of_a_successful_run_is_left_on_disk(self):
        from qiime2.core.cache import get_cache

        def run_pools():
            return [pool for pool in get_cache().get_pools()
                    if pool.startswith('q2_parallel_run_')]

        before = set(run_pools())
        with ParallelConfig(thread_config(), {}) as config:
            result = paralleltest.pipelines.square_all.parallel(
                self.ints)._result()
            self.assertEqual(len(set(run_pools()) - before), 1)
            run_dir = config.run_dir
            self.assertTrue(os.path.isdir(run_dir))
        self.assertFalse(os.path.exists(run_dir))
        self.assertLessEqual(set(run_pools()), before)
        self.assertEqual(result.squared.view(list),
                         self.serial.squared.view(list))

    def test_pool_of_a_killed_run_is_removed_by_the_next_run(self):
        from qiime2.core.cache import get_cache
        killed = subprocess.run([sys.executable, '-c', KILLED_RUN],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(killed.returncode, 9, killed.stderr)
        left = killed.stdout.strip()
        self.assertIn(left, get_cache().get_pools())
        with ParallelConfig(thread_config(), {}):
            pass
        self.assertNotIn(left, get_cache().get_pools())

    def test_compatible_with_later_qiime2_import_path(self):
        from qiime2.sdk.parallel_config import (ParallelConfig as Later,
                                                get_config_from_file)
        self.assertIs(Later, ParallelConfig)
        self.assertTrue(callable(get_config_from_file))


@pytest.mark.slow  # starts real HTEX workers
def helper_processes():
    """The command lines of this process's children but the run's
    watchdog: HTEX's interchange and workers, if any were started."""
    return [p.cmdline() for p in psutil.Process().children(recursive=True)
            if '_watchdog.py' not in ' '.join(p.cmdline())]


class WorkerProcessTests(unittest.TestCase):
    """HighThroughputExecutor: steps in local worker processes."""

    def setUp(self):
        self.ints = int_list(range(30))

    def test_mapped_steps_run_in_workers_and_others_here(self):
        before = resources()
        with tempfile.TemporaryDirectory() as record_dir:
            serial = paralleltest.pipelines.nested_square(
                self.ints, partitions=2, record_dir=record_dir)
            for path in glob.glob(os.path.join(record_dir, '*')):
                os.remove(path)
            with ParallelConfig(mixed_config(), {'square': 'htex'}):
                result = paralleltest.pipelines.nested_square.parallel(
                    self.ints, partitions=2, record_dir=record_dir)._result()
            notes = step_notes(record_dir)
        self.assertEqual(result.merged.view(list), serial.merged.view(list))
        self.assertEqual(provenance_actions(result.merged),
                         provenance_actions(serial.merged))
        pids = {note['pid'] for note in notes}
        self.assertEqual(len(notes), 4)
        self.assertNotIn(os.getpid(), pids)
        self.assertEqual(resources()['children'], before['children'])

    def test_workers_have_what_worker_init_set(self):
        """A local block's ``worker_init`` (exporting a variable, say)
        reaches its workers' steps, as with Parsl's own workers, though
        q2-parallel forks them from the run's process."""
        config = mixed_config()
        config.executors[1].provider.worker_init = (
            'export PARALLELTEST_SET_BY=worker_init')
        with tempfile.TemporaryDirectory() as record_dir:
            with ParallelConfig(config, {'square': 'htex'}):
                paralleltest.pipelines.square_all.parallel(
                    self.ints, partitions=2, record_dir=record_dir)._result()
            notes = step_notes(record_dir)
        self.assertEqual(len(notes), 2)
        self.assertNotIn(os.getpid(), {note['pid'] for note in notes})
        self.assertEqual({note['set_by'] for note in notes}, {'worker_init'})
        self.assertNotIn('PARALLELTEST_SET_BY', os.environ)

    def test_worker_that_exits_fails_the_run_naming_the_step(self):
        with tempfile.TemporaryDirectory() as record_dir:
            with self.assertRaises(Exception) as caught:
                with ParallelConfig(mixed_config(),
                                    {'kill_worker': 'htex'}):
                    paralleltest.pipelines.square_then_die.parallel(
                        self.ints, how='exit',
                        record_dir=record_dir)._result()
        self.assertEqual(caught.exception.parallel_step,
                         'paralleltest:kill_worker')

    def test_executors_no_step_can_reach_are_not_started(self):

        with ParallelConfig(mixed_config(), {}) as config:
            result = paralleltest.methods.square.parallel(self.ints).result()
            self.assertEqual(helper_processes(), [])  # no interchange
            self.assertEqual(config.progress().done, 1)
        self.assertEqual(result.squared.view(list),
                         [n * n for n in range(30)])

    def test_killed_worker_is_retried_when_config_allows(self):
        with tempfile.TemporaryDirectory() as record_dir:
            with ParallelConfig(mixed_config(retries=2),
                                {'kill_worker': 'htex'}):
                result = paralleltest.pipelines.square_then_die.parallel(
                    self.ints, how='once', record_dir=record_dir)._result()
        self.assertEqual(result.survived.view(list),
                         [n * n for n in range(30)])

    def test_killed_worker_pool_fails_waiting_steps_instead_of_hanging(self):
        with self.assertRaises(Exception) as caught:
            with ParallelConfig(mixed_config(workers=1),
                                {'square': 'htex'}) as config:
                future = paralleltest.pipelines.square_all.parallel(
                    self.ints, partitions=3, delay=3)
                pool = wait_for_worker_pool(config.run_dir)
                for process in [pool, *pool.children(recursive=True)]:
                    process.kill()
                future._result()
        self.assertIn('Executor htex failed', str(caught.exception))
        self.assertIn('EXIT CODE: 137', str(caught.exception))
        self.assertEqual(caught.exception.parallel_step, 'paralleltest:square')


def wait_for_worker_pool(run_dir, seconds=60):
    """The HTEX worker pool process of the run logging to ``run_dir``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for process in psutil.process_iter(['cmdline']):
            cmdline = ' '.join(process.info['cmdline'] or [])
            if 'process_worker_pool' in cmdline and run_dir in cmdline:
                return process
        time.sleep(0.2)
    raise AssertionError('no HTEX worker pool started')
