"""Load on ThreadPool and HTEX: a 500-partition Pipeline completes, and ten
runs in a row in one process (a long Jupyter session) do not grow threads,
open descriptors, child processes or memory.

Baselines are taken after one warm-up run of the same kind, once the
modules a run imports and the caches it fills exist.
"""
import os

import psutil
import pytest
from qiime2.plugins import paralleltest

from q2_parallel import ParallelConfig
from tests.engine_support import (int_list, mixed_config, resources,
                                  thread_config)

# Slow: runs 500-partition Pipelines on threads and HTEX workers.
pytestmark = pytest.mark.slow

CONFIGS = {
    'threads': (thread_config, {}),
    'htex': (mixed_config, {'square': 'htex'}),  # 2 worker processes
}
INTS = range(1000)
# Python's allocator keeps freed memory for reuse rather than handing it
# back, so RSS moves by a few MB from run to run without any leak; 50 MB
# over ten runs is several MB per run, far above that, so a leak of the
# run's artifacts or executors would show.
RSS_MARGIN_MB = 50


def square_all(kind, ints, partitions):
    config, mapping = CONFIGS[kind]
    with ParallelConfig(config(), mapping):
        return paralleltest.pipelines.square_all.parallel(
            ints, partitions=partitions)._result()


def open_descriptors():
    """What each descriptor of this process points to, for the report of a
    leak ("socket:[…]", a log file, a pipe)."""
    targets = []
    for fd in os.listdir('/proc/self/fd'):
        try:
            targets.append(os.readlink(f'/proc/self/fd/{fd}'))
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return sorted(targets)


def assert_back_to(baseline, descriptors):
    now = resources()
    assert now == baseline, (
        f'{baseline} -> {now}; descriptors before: {descriptors}, '
        f'after: {open_descriptors()}')


def rss_mb():
    return psutil.Process().memory_info().rss / 2**20


@pytest.fixture(scope='module')
def ints():
    return int_list(INTS)


@pytest.mark.parametrize('kind', sorted(CONFIGS))
def test_500_partitions_complete_and_leave_nothing_open(kind, ints):
    square_all(kind, ints, partitions=4)  # warm-up
    baseline, descriptors = resources(), open_descriptors()
    result = square_all(kind, ints, partitions=500)
    assert result.squared.view(list) == sorted(n * n for n in INTS)
    assert_back_to(baseline, descriptors)


@pytest.mark.parametrize('kind', sorted(CONFIGS))
def test_ten_runs_in_a_row_do_not_grow(kind, ints):
    square_all(kind, ints, partitions=4)  # warm-up
    baseline, descriptors = resources(), open_descriptors()
    memory = rss_mb()
    for _ in range(10):
        result = square_all(kind, ints, partitions=4)
        assert result.squared.view(list) == sorted(n * n for n in INTS)
    assert_back_to(baseline, descriptors)
    assert rss_mb() - memory < RSS_MARGIN_MB
