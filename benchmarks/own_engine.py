"""q2-parallel's own costs, measured inside one process (the sections of
``benchmarks/run.py`` after the side-by-side comparison).

1. ``cpu-bound``: a CPU-bound split-apply-combine Pipeline (the test
   plugin's ``square_all`` with a fixed total amount of work) run serially,
   on a ThreadPool and on a 2-worker HighThroughputExecutor that has already
   started, for 1, 8, 32 and 64 partitions.
2. ``engine-cost``: the engine's own cost per step (a trivial step called
   through the engine on a 1-thread ThreadPool against the same step called
   serially); HighThroughputExecutor start-up (from entering
   ``ParallelConfig`` to the first step's result); the demo Pipeline
   ``count_kmers`` with 64 partitions on the example data.
3. ``cli-startup``: `qiime --help` and `qiime info` with q2-parallel (its
   plugin and q2cli hook) and in a venv that sees the same QIIME 2 without
   q2-parallel.
4. ``report``: the run report's cost, 500 partitions on a ThreadPool
   without and with ``report=``.
5. ``recycling``: the cost of keeping every step's results in a recycle pool
   (500 partitions, against ``--no-recycle``), and a run resumed with half
   of its CPU-bound steps finished against a clean run.
6. ``load``: 500 partitions on a ThreadPool and on HTEX, with the main
   process's peak memory and its threads / descriptors / children before
   and after.
"""
import collections
import json
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from qiime2 import Artifact
from qiime2.plugins import parallel as demo, paralleltest

from q2_parallel import ParallelConfig
from q2_parallel.demo import simulate_reads, write_reads
from tests.engine_support import mixed_config as htex
from tests.engine_support import resources
from tests.engine_support import thread_config as threads
from tests.helpers import QIIME, isolated_env, venv_seeing_qiime

TOTAL_BURN = 160000  # units of CPU work in one run, split over partitions


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def in_parallel(config, mapping, action, *args, options=None, **kwargs):
    """Run ``action`` in a ParallelConfig block (with ``options``, e.g.
    ``report=`` or ``recycle_pool=``) and wait for its results."""
    with ParallelConfig(config, mapping, **(options or {})):
        return action.parallel(*args, **kwargs)._result()


def cpu_bound_rows(ints, partition_counts):
    """Serial, ThreadPool and HTEX wall time of the same total work; HTEX
    runs in one block whose workers have already run a step (its start-up
    is measured on its own)."""
    pipeline = paralleltest.pipelines.square_all
    rows = []
    with ParallelConfig(htex(), {'square': 'htex'}):
        pipeline.parallel(ints, partitions=2)._result()  # warm both workers
        for n in partition_counts:
            work = {'partitions': n, 'burn': TOTAL_BURN // n}
            workers = timed(
                lambda: pipeline.parallel(ints, **work)._result())
            rows.append([n, None, None, workers])
    for row in rows:
        work = {'partitions': row[0], 'burn': TOTAL_BURN // row[0]}
        row[1] = timed(lambda: pipeline(ints, **work))
        row[2] = timed(lambda: in_parallel(threads(threads=2), {}, pipeline,
                                           ints, **work))
    return rows


def step_overhead(ints, calls=50):
    """A trivial step called and awaited one at a time, serially and through
    the engine on a 1-thread ThreadPool: the difference is the engine's."""
    square = paralleltest.methods.square
    square(ints)  # warm imports and transformers
    serial = timed(lambda: [square(ints) for _ in range(calls)])
    with ParallelConfig(threads(threads=1), {}):
        square.parallel(ints)._result()
        pooled = timed(lambda: [square.parallel(ints)._result()
                                for _ in range(calls)])
    return serial / calls, (pooled - serial) / calls


def median_step_overhead(ints, repeats=3):
    """The median of a few measurements: single ones vary by milliseconds
    on a shared machine."""
    measured = sorted(step_overhead(ints) for _ in range(repeats))
    return measured[repeats // 2]


def htex_startup(ints):
    start = time.perf_counter()
    with ParallelConfig(htex(), {'square': 'htex'}):
        paralleltest.methods.square.parallel(ints)._result()
        return time.perf_counter() - start


def demo_rows(partitions=64):
    reads = simulate_reads()
    path = '/tmp/q2-parallel-bench-reads.fna'
    write_reads(reads, path)
    seqs = Artifact.import_data('SampleSequences', path)
    pipeline = demo.pipelines.count_kmers
    serial = timed(lambda: pipeline(seqs, partitions=partitions))
    pool = timed(lambda: in_parallel(threads(), {}, pipeline, seqs,
                                     partitions=partitions))
    return serial, pool


def load_rows(ints, partitions=500):
    pipeline = paralleltest.pipelines.square_all
    rows = []
    for name, config, mapping in [('ThreadPool', threads(), {}),
                                  ('HTEX', htex(), {'square': 'htex'})]:
        before = resources()
        seconds = timed(lambda: in_parallel(config, mapping, pipeline,
                                            ints, partitions=partitions))
        after = resources()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append((name, seconds, peak_mb, before, after))
    return rows


def paired_medians(ints, variants, partitions=500, repeats=3):
    """Median wall time of the same run on a ThreadPool with each of
    ``variants`` (ParallelConfig options), taken in turns so that the
    machine's drift hits each."""
    pipeline = paralleltest.pipelines.square_all
    seconds = [[] for _ in variants]
    for _ in range(repeats):
        for times, options in zip(seconds, variants):
            times.append(timed(lambda: in_parallel(
                threads(), {}, pipeline, ints, partitions=partitions,
                options=options)))
    return [statistics.median(times) for times in seconds]


def report_cost(ints):
    """Without and with the run report."""
    with tempfile.TemporaryDirectory(prefix='q2p-bench-report-') as tmp:
        return paired_medians(ints, [{}, {'report': Path(tmp) / 'run.html'}])


def recycling_cost(ints):
    """Without recycling (``--no-recycle``) and with the pool a run keeps
    by default, removed after each success (so nothing is reused)."""
    return paired_medians(ints, [{}, {'recycle_pool': 'bench_recycling',
                                      'remove_recycle_pool': True}])


def resume_rows(ints, partitions=8, repeats=3):
    """CPU-bound work on a 2-thread pool: a clean run, and the same run
    resumed when half of its apply steps had finished (the kept results of
    the other half are dropped from the pool before each rerun)."""
    from q2_parallel.engine._recycle import RecyclePool
    from qiime2.core.cache import get_cache

    pipeline = paralleltest.pipelines.square_all
    work = {'partitions': partitions, 'burn': TOTAL_BURN // partitions}
    clean, resumed = [], []
    for _ in range(repeats):
        clean.append(timed(lambda: in_parallel(threads(threads=2), {},
                                               pipeline, ints, **work)))
        options = {'recycle_pool': 'bench_resume'}
        in_parallel(threads(threads=2), {}, pipeline, ints, options=options,
                    **work)
        pool = RecyclePool.create(get_cache(), 'bench_resume')
        steps = _entries(pool)
        unfinished = (steps['paralleltest:square'][:partitions // 2]
                      + steps['paralleltest:merge_ints'])
        for entry in unfinished:
            entry.unlink()
        resumed.append(timed(lambda: in_parallel(
            threads(threads=2), {}, pipeline, ints, options=options,
            **work)))
        pool.remove()
    return statistics.median(clean), statistics.median(resumed)


def _entries(pool):
    """The pool's index entries by step ('plugin:action')."""
    entries = collections.defaultdict(list)
    for entry in sorted(pool.index.glob('*.json')):
        entries[json.loads(entry.read_text())['step']].append(entry)
    return entries


def cli_startup_rows(runs=5):
    """(command, median seconds with q2-parallel, without) for `qiime
    --help` and `qiime info`, each venv's q2cli cache built first."""
    with tempfile.TemporaryDirectory(prefix='q2p-bench-') as tmp:
        _, without = venv_seeing_qiime(Path(tmp) / 'venv')
        medians = {}
        for label, qiime in (('with', QIIME), ('without', without)):
            env = isolated_env(Path(tmp) / label)
            subprocess.run([str(qiime), 'info'], env=env, check=True,
                           capture_output=True)
            for args in (['--help'], ['info']):
                medians[label, args[0]] = statistics.median(
                    _seconds([str(qiime), *args], env) for _ in range(runs))
    return [(f'qiime {command}', medians['with', command],
             medians['without', command]) for command in ('--help', 'info')]


def _seconds(command, env):
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def int_list():
    return Artifact.import_data('IntList', list(range(1000)))


def print_cpu_bound(quick=False):
    counts = [1, 8] if quick else [1, 8, 32, 64]
    print('| partitions | serial (s) | ThreadPool, 2 threads (s) '
          '| HTEX, 2 workers, started (s) | HTEX speed-up |')
    print('|---:|---:|---:|---:|---:|')
    for n, serial, pool, workers in cpu_bound_rows(int_list(), counts):
        print(f'| {n} | {serial:.2f} | {pool:.2f} | {workers:.2f} '
              f'| {serial / workers:.2f}x |')


def print_engine_cost(quick=False):
    serial_step, overhead = median_step_overhead(int_list())
    print(f'trivial serial step: {serial_step * 1000:.1f} ms; engine cost '
          f'per step on a ThreadPool: {overhead * 1000:.2f} ms '
          f'({overhead / serial_step:.0%})')
    startup = htex_startup(int_list())
    print(f'HTEX start-up to first step result: {startup:.2f} s')
    serial, pool = demo_rows()
    print(f'demo count_kmers, 64 partitions, example data: serial '
          f'{serial:.2f} s, ThreadPool {pool:.2f} s')


def print_cli_startup(quick=False):
    print('| command | with q2-parallel (ms) | without (ms) |')
    print('|---|---:|---:|')
    for command, with_it, without in cli_startup_rows():
        print(f'| `{command}` | {with_it * 1000:.0f} | {without * 1000:.0f} |')


def print_report(quick=False):
    without, with_report = report_cost(int_list())
    print(f'run report, 500 partitions on a ThreadPool: {without:.1f} s '
          f'without, {with_report:.1f} s with '
          f'({with_report / without - 1:+.1%})')


def print_recycling(quick=False):
    without, with_pool = recycling_cost(int_list())
    print(f'recycle pool, 500 partitions on a ThreadPool: {without:.1f} '
          f's without (--no-recycle), {with_pool:.1f} s with '
          f'({with_pool / without - 1:+.1%})')
    clean, resumed = resume_rows(int_list())
    print(f'resumed with half of 8 CPU-bound steps finished, 2 threads: '
          f'{resumed:.1f} s against {clean:.1f} s for a clean run '
          f'({resumed / clean:.0%})')


def print_load(quick=False):
    print('| 500 partitions | wall (s) | peak RSS of main (MB) '
          '| threads / fds / children before -> after |')
    print('|---|---:|---:|---|')
    for name, seconds, peak, before, after in load_rows(int_list()):
        print(f'| {name} | {seconds:.1f} | {peak:.0f} '
              f'| {before["threads"]}/{before["fds"]}/'
              f'{before["children"]} -> {after["threads"]}/'
              f'{after["fds"]}/{after["children"]} |')


# Section name -> (printer, runs with --quick).
SECTIONS = {
    'cpu-bound': (print_cpu_bound, True),
    'engine-cost': (print_engine_cost, True),
    'cli-startup': (print_cli_startup, True),
    'report': (print_report, False),
    'recycling': (print_recycling, False),
    'load': (print_load, False),
}
