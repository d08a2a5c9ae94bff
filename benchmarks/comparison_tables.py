"""What the comparison prints: the machine and software, a table a case,
a summary, and the note on QIIME 2 2024.5's workaround."""
import collections
import contextlib
import os
import platform
import statistics
import subprocess
from pathlib import Path

import psutil

from variants import (ALL, Q2P_HTEX, QIIME2_2022_11, QIIME2_2024_5, REPO,
                      SERIAL)

WORKAROUND_NOTE = (
    '\nQIIME 2 2024.5 ran with a workaround for its HTEX provenance bug '
    '(InternalDirectory registers its rmtree finalizer also on copies '
    'unpickled in a worker, which delete the main process\'s provenance '
    'folder): benchmarks/qiime2_2024_5_fix/sitecustomize.py, on PYTHONPATH '
    'of its runs only, gives unpickled copies no finalizer.')


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
    if case.burn:
        lines.append('')
        for variant in results:
            if variant.executors == 'htex':
                lines.append(_cores_and_engine_line(results, variant))
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


def cores_and_engine(results, variant):
    """For an HTEX variant on CPU-bound work, round by round against the
    serial run: how much longer its `square` steps took, two at once, than
    alone; the speed an engine costing nothing would have reached with
    those steps (the serial run without its steps, plus the steps of the
    busiest worker); and the engine's own cost, the seconds the run took
    beyond that.  Medians."""
    pairs = list(zip(results[SERIAL].measured, results[variant].measured))
    free = [s.seconds - s.step_seconds + v.busiest_process_steps
            for s, v in pairs]
    return {
        'slower': statistics.median(v.step_seconds / s.step_seconds
                                    for s, v in pairs),
        'free_speed': statistics.median(s.seconds / f
                                        for (s, _), f in zip(pairs, free)),
        'own_seconds': statistics.median(v.seconds - f
                                         for (_, v), f in zip(pairs, free))}


def _cores_and_engine_line(results, variant):
    figures = cores_and_engine(results, variant)
    return (f'{variant.label}: its steps took {figures["slower"]:.2f}x '
            f'their serial time, two at once; an engine costing nothing '
            f'would have reached {figures["free_speed"]:.2f}x with them; its '
            f'own cost was {figures["own_seconds"]:.2f} s a run (medians '
            f'of the rounds).')


def summary_table(results):
    """Speed against serial (median of the paired runs), case by case, and
    on CPU-bound work what an engine costing nothing would have reached
    with q2-parallel's HTEX steps (``cores_and_engine``)."""
    variants = [v for v in ALL if any(v in r for _, r in results)]
    lines = ['\n### Summary: speed against serial (median of paired runs; '
             'whole processes, start-up included)\n',
             '| case | ' + ' | '.join(v.label for v in variants)
             + ' | engine costing nothing, with q2-parallel HTEX\'s steps |',
             '|---|' + '---:|' * (len(variants) + 1)]
    for case, case_results in results:
        cells = [f'{statistics.median(_speeds(case_results, v)):.2f}x'
                 if v in case_results else 'not run' for v in variants]
        cells.append(
            f'{cores_and_engine(case_results, Q2P_HTEX)["free_speed"]:.2f}x'
            if case.burn else '–')
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
