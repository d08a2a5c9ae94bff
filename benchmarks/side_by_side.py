"""The side-by-side comparison ``make bench`` runs first: the test plugin's
``square_all`` run as a user runs it, one fresh `qiime` process a run,
serially on QIIME 2 2022.11, with q2-parallel on 2022.11, and on QIIME 2
2024.5's own engine, each parallel variant on a ThreadPool and on HTEX.

Wall time is the whole process, start to exit (start-up included), since
that is what a user waits for.  Runs are taken in turns (A B C D E, A B C D
E, ...) so that the machine's drift hits every variant; the speed against
serial is the median of each round's ratio.  Every output must hold exactly
the serial run's data, and every apply step must have run where the config
put it, or the comparison stops (``run_checks.py``).  Memory: the peak of
the main process and of the largest process it started (an HTEX worker).
How busy the machine was (CPU used by other processes while each run
lasted) is printed with each case, and for CPU-bound work how much slower
the steps ran two at once than alone, and what an engine costing nothing
would have reached with them (``comparison_tables.cores_and_engine``).

The variants are in ``variants.py``, one measured run in
``bench_folder.py`` and ``measured_process.py``, the tables in
``comparison_tables.py``.
"""
import os
import sys
import tempfile
from dataclasses import dataclass, field

from bench_folder import Bench
from comparison_tables import (WORKAROUND_NOTE, case_table,
                               describe_machine, summary_table)
from measured_process import RunFailed, subreaper
from run_checks import CheckFailed
from variants import ALL, HTEX_ONLY

# CPU work of the CPU-bound cases, cut into their partitions: about 25 s
# serially, start-up included, on this project's 2-core machines (the
# burn's unit, a sum of 1,000 squares, took 27 to 36 us of CPU there).
TOTAL_BURN = 650000
# A run that fails is run again, this many times at most, and counted: the
# table says how often each variant failed and why.
RETRIES = 2


@dataclass(frozen=True)
class Case:
    title: str
    partitions: int
    total_burn: int
    variants: tuple
    runs: int

    @property
    def burn(self):
        return self.total_burn // self.partitions


def cases(quick=False):
    """What ``make bench`` compares; ``quick``: two small cases, one run
    each (a smoke run, not figures to quote)."""
    if quick:
        return [Case('CPU-bound, 8 partitions', 8, TOTAL_BURN // 10, ALL, 1),
                Case('Tiny steps, 16 partitions', 16, 0, ALL, 1)]
    return [
        Case('CPU-bound, 8 partitions', 8, TOTAL_BURN, ALL, 5),
        Case('Tiny steps, 64 partitions', 64, 0, ALL, 5),
        Case('CPU-bound, 32 partitions', 32, TOTAL_BURN, HTEX_ONLY, 3),
        Case('CPU-bound, 64 partitions', 64, TOTAL_BURN, HTEX_ONLY, 3),
    ]


@dataclass
class Runs:
    """One variant's measurements in one case, in the order taken."""
    measured: list = field(default_factory=list)
    others_cores: list = field(default_factory=list)
    left_running: list = field(default_factory=list)
    left_files: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # RunFailed.reason

    @property
    def seconds(self):
        return [m.seconds for m in self.measured]


def compare(quick=False):
    """Run every case and print its table and a summary."""
    with tempfile.TemporaryDirectory(prefix='q2p-bench-compare-') as root, \
            subreaper():
        bench = Bench(root)
        bench.prepare()
        print(describe_machine())
        warm_up(bench)
        results = []
        for case in cases(quick):
            results.append((case, run_case(bench, case)))
            print(case_table(case, results[-1][1]), flush=True)
        print(summary_table(results))
        print(f'\nLoad average at the end: {os.getloadavg()[0]:.2f}.')
        print(WORKAROUND_NOTE)


def warm_up(bench):
    """One uncounted run of each variant, serial first: q2cli's cache,
    Python's bytecode and QIIME 2's cache are written, as on a user's
    machine after the first run."""
    for variant in ALL:
        run_again_if_failed(bench, variant, 8, 0,
                            f'warm-up, {variant.label}', Runs())


def run_again_if_failed(bench, variant, partitions, burn, what, runs):
    """``bench.run``, run again (at most RETRIES times) if it fails; the
    failures are noted in ``runs``."""
    for attempt in range(RETRIES + 1):
        try:
            return bench.run(variant, partitions, burn, what)
        except RunFailed as failed:
            runs.failures.append(failed.reason)
            print(f'{what} failed: {failed.reason}', flush=True)
            if attempt == RETRIES:
                raise


def run_case(bench, case):
    print(f'\n{case.title}: {case.runs} run(s) of {len(case.variants)} '
          f'variants in turns ...', flush=True)
    results = {variant: Runs() for variant in case.variants}
    for round_ in range(case.runs):
        for variant in case.variants:
            runs = results[variant]
            measured, others, left = run_again_if_failed(
                bench, variant, case.partitions, case.burn,
                f'{case.title}, {variant.label}, run {round_ + 1}', runs)
            runs.measured.append(measured)
            print(f'  run {round_ + 1}/{case.runs}, {variant.label}: '
                  f'{measured.seconds:.1f} s', file=sys.stderr, flush=True)
            runs.others_cores.append(others)
            runs.left_running.extend(measured.left_running)
            runs.left_files.extend(left)
    return results


def main(quick=False):
    try:
        compare(quick)
    except (RunFailed, CheckFailed) as error:
        raise SystemExit(f'\nside-by-side comparison failed: {error}')
