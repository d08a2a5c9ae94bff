"""The side-by-side comparison ``make bench`` runs first: the test plugin's
``square_all`` run as a user runs it, one fresh `qiime` process a run,
serially on QIIME 2 2022.11, with q2-parallel on 2022.11, and on QIIME 2
2024.5's own engine, each parallel variant on a ThreadPool and on HTEX.

Wall time is the whole process, start to exit (start-up included), since
that is what a user waits for.  Runs are taken in turns (A B C D E, A B C D
E, ...) so that the machine's drift hits every variant; the speed against
serial is the median of each round's ratio.  Every output must hold exactly
the serial run's data, or the comparison stops.  Memory: the peak of the
main process and of the largest process it started (an HTEX worker).  How
busy the machine was (CPU used by other processes while each run lasted) is
printed with each case.
"""
import collections
import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from measured_process import RunFailed, measure, subreaper
from run_checks import (CheckFailed, data_fingerprint, expected_squares,
                        step_places)
from variants import (ALL, HTEX_ONLY, QIIME2_2022_11, QIIME2_2024_5, REPO,
                      SERIAL, config_texts)

# CPU work of the CPU-bound cases, cut into their partitions: about 25 s
# serially, start-up included, on this project's 2-core machines (the
# burn's unit, a sum of 1,000 squares, took 27 to 36 us of CPU there).
TOTAL_BURN = 768000
INTS = range(1000)
RUN_TIMEOUT = 600
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


class Bench:
    """The comparison's folder: inputs, configs, outputs, and for each
    framework a private HOME and TMPDIR; removed with everything in it.
    The first run it makes must be a serial one: its output, checked
    against the squares of the input, is what every later output must
    equal."""

    def __init__(self, root):
        self.root = Path(root)
        self.ints = self.root / 'ints.qza'
        self.configs = {}
        self.expected = None  # the serial output's data_fingerprint

    def prepare(self):
        for framework in (QIIME2_2022_11, QIIME2_2024_5):
            if not (framework.venv / 'bin' / 'qiime').exists():
                raise SystemExit(
                    f'no {framework.venv.name}/ for QIIME 2 '
                    f'{framework.release}: build it with `bash '
                    f'scripts/bootstrap-venv.sh {framework.profile}` (or '
                    f'`make dev`)')
            for folder in ('home', 'tmp'):
                self._folder(framework, folder).mkdir()
        for name, text in config_texts(self.root / 'runinfo').items():
            path = self.root / f'{name}.toml'
            path.write_text(text)
            self.configs[name] = path
        (self.root / 'runs').mkdir()
        (self.root / 'runinfo').mkdir()
        numbers = self.root / 'ints.txt'
        numbers.write_text(''.join(f'{n}\n' for n in INTS))
        subprocess.run(
            [str(QIIME2_2022_11.venv / 'bin' / 'qiime'), 'tools', 'import',
             '--type', 'IntList', '--input-path', str(numbers),
             '--output-path', str(self.ints)],
            env=self._environment(QIIME2_2022_11), check=True,
            capture_output=True)

    def _folder(self, framework, kind):
        return self.root / f'{kind}-{framework.release}'

    def _environment(self, framework):
        return framework.environment(self._folder(framework, 'home'),
                                     self._folder(framework, 'tmp'))

    def _what_runs_leave(self, framework):
        """(kind, path) of each entry in TMPDIR (but QIIME 2's cache),
        each named pool in QIIME 2's cache (recycle pools), and each of
        Parsl's numbered log folders."""
        tmpdir = self._folder(framework, 'tmp')
        found = {(f'$TMPDIR/{_stem(p.name)}', p) for p in tmpdir.iterdir()
                 if p.name != 'qiime2'}
        found |= {('a pool in QIIME 2\'s cache', p)
                  for p in tmpdir.glob('qiime2/*/pools/*')}
        found |= {("run_dir/NNN (Parsl's logs)", p)
                  for p in (self.root / 'runinfo').iterdir()}
        return found

    def run(self, variant, partitions, burn, what):
        """One measured run, checked: its Measurement, the cores other
        processes used meanwhile, and what it left behind (which is
        removed, as is everything else of the run)."""
        folder = Path(tempfile.mkdtemp(prefix='run-', dir=self.root / 'runs'))
        output, records = folder / 'squared.qza', folder / 'records'
        records.mkdir()
        before = self._what_runs_leave(variant.framework)
        busy = _busy_cpu_seconds()
        measured = measure(
            variant.command(self.ints, partitions, burn, output,
                            self.configs, records),
            self._environment(variant.framework), self.root, RUN_TIMEOUT,
            folder / 'qiime.log')
        others = max(0.0, _busy_cpu_seconds() - busy - measured.cpu_seconds)
        left = []
        for kind, path in sorted(self._what_runs_leave(variant.framework)
                                 - before):
            left.append(kind)
            _remove(path)
        step_places(records, partitions, measured.pid,
                    variant.executors == 'htex', what)
        fingerprint = data_fingerprint(output)
        if self.expected is None:
            expected_squares(output, INTS)
            self.expected = fingerprint
        elif fingerprint != self.expected:
            raise CheckFailed(f'{what}: its output differs from the serial '
                              f'run\'s')
        _remove(folder)
        return measured, others / measured.seconds, left


def _stem(name):
    """A temporary name without its random part: 'pymp-*'."""
    stem = name.split('-')[0]
    return f'{stem}-*' if stem != name else name


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _busy_cpu_seconds():
    times = psutil.cpu_times()
    return (times.user + times.nice + times.system + times.irq
            + times.softirq + times.steal)


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


WORKAROUND_NOTE = (
    '\nQIIME 2 2024.5 ran with a workaround for its HTEX provenance bug '
    '(InternalDirectory registers its rmtree finalizer also on copies '
    'unpickled in a worker, which delete the main process\'s provenance '
    'folder): benchmarks/qiime2_2024_5_fix/sitecustomize.py, on PYTHONPATH '
    'of its runs only, gives unpickled copies no finalizer.')


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


def _speeds(results, variant):
    """Each round's serial time over the variant's: the pairs."""
    return [s / v for s, v in zip(results[SERIAL].seconds,
                                  results[variant].seconds)]


def case_table(case, results):
    lines = [
        f'\n### {case.title} (burn {case.burn} a partition, '
        f'{case.partitions * 2 + 1} steps), {case.runs} run(s) in turns\n',
        '| variant | median (s) | min–max (s) | speed vs serial '
        '(median, min–max) | CPU, all processes (s) '
        '| main process peak RSS (MB) | largest worker peak RSS (MB) |',
        '|---|---:|---:|---:|---:|---:|---:|']
    for variant, runs in results.items():
        speeds = _speeds(results, variant)
        seconds = runs.seconds

        def median(figure):
            return statistics.median(getattr(m, figure) for m in runs.measured)

        worker = (f'{median("worker_peak_mb"):.0f}'
                  if variant.executors == 'htex' else '–')
        lines.append(
            f'| {variant.label} | {statistics.median(seconds):.2f} '
            f'| {min(seconds):.2f}–{max(seconds):.2f} '
            f'| {statistics.median(speeds):.2f}x '
            f'({min(speeds):.2f}–{max(speeds):.2f}) '
            f'| {median("cpu_seconds"):.1f} '
            f'| {median("main_peak_mb"):.0f} | {worker} |')
    others = [c for runs in results.values() for c in runs.others_cores]
    lines.append(f'\nOther processes used {statistics.mean(others):.2f} of '
                 f'{os.cpu_count()} cores on average while these runs lasted '
                 f'(at most {max(others):.2f} during one run).')
    for variant, runs in results.items():
        if runs.failures:
            lines.append(f'{variant.label}: {len(runs.failures)} run(s) '
                         f'failed and were run again: '
                         f'{"; ".join(sorted(set(runs.failures)))}')
        if runs.left_running:
            lines.append(f'{variant.label}: left {len(runs.left_running)} '
                         f'process(es) running (ended by the benchmark): '
                         f'{runs.left_running[0][:120]}')
        if runs.left_files:
            kinds = collections.Counter(runs.left_files)
            lines.append(f'{variant.label}: left behind over {case.runs} '
                         f'run(s) (removed by the benchmark): ' + ', '.join(
                             f'{count} × {kind}'
                             for kind, count in sorted(kinds.items())))
    return '\n'.join(lines)


def summary_table(results):
    """Speed against serial (median of the paired runs), case by case."""
    variants = [v for v in ALL if any(v in r for _, r in results)]
    lines = ['\n### Summary: speed against serial (median of paired runs; '
             'whole processes, start-up included)\n',
             '| case | ' + ' | '.join(v.label for v in variants) + ' |',
             '|---|' + '---:|' * len(variants)]
    for case, case_results in results:
        cells = [f'{statistics.median(_speeds(case_results, v)):.2f}x'
                 if v in case_results else 'not run' for v in variants]
        serial = statistics.median(case_results[SERIAL].seconds)
        lines.append(f'| {case.title} (serial {serial:.1f} s) | '
                     + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def describe_machine():
    """The machine and the software the figures were measured with."""
    model = '?'
    with contextlib.suppress(OSError, StopIteration):
        model = next(line.split(':', 1)[1].strip() for line in
                     open('/proc/cpuinfo') if line.startswith('model name'))
    memory = psutil.virtual_memory().total / 2 ** 30
    debian = Path('/etc/debian_version')
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                            cwd=REPO, capture_output=True, text=True)
    lines = [f'Machine: {os.cpu_count()} cores ({model}), {memory:.0f} GiB, '
             f'Debian {debian.read_text().strip() if debian.exists() else "?"}'
             f', load average {os.getloadavg()[0]:.2f} at the start; '
             f'q2-parallel at {commit.stdout.strip() or "?"}.']
    for framework in (QIIME2_2022_11, QIIME2_2024_5):
        versions = subprocess.run(
            [str(framework.venv / 'bin' / 'python'), '-c',
             'import sys, importlib.metadata as m; print(sys.version.split()'
             '[0], *(m.version(p) for p in ("qiime2", "q2cli", "parsl")))'],
            capture_output=True, text=True, check=True).stdout.split()
        lines.append(f'QIIME 2 {framework.release} ({framework.venv.name}): '
                     f'Python {versions[0]}, qiime2 {versions[1]}, q2cli '
                     f'{versions[2]}, Parsl {versions[3]}.')
    lines.append(f'Platform: {platform.platform()}.')
    return '\n'.join(lines)


def main(quick=False):
    try:
        compare(quick)
    except (RunFailed, CheckFailed) as error:
        raise SystemExit(f'\nside-by-side comparison failed: {error}')
