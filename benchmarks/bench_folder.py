"""The comparison's folder, and one checked run in it: every file a run
reads or writes, and its private HOME and TMPDIR, live there and go with
it."""
import collections
import dataclasses
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import psutil

from measured_process import measure
from run_checks import (CheckFailed, data_fingerprint, expected_squares,
                        step_places)
from variants import QIIME2_2022_11, QIIME2_2024_5, config_texts

INTS = range(1000)
RUN_TIMEOUT = 600


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
        measured = dataclasses.replace(measured, **_step_times(records))
        _remove(folder)
        return measured, others / measured.seconds, left


def _step_times(record_dir):
    """The `square` steps' own time, from their records: summed, and
    summed in the process that ran the most of it."""
    by_process = collections.Counter()
    for path in Path(record_dir).glob('square-*.json'):
        note = json.loads(path.read_text())
        by_process[note['pid']] += note['end'] - note['start']
    return {'step_seconds': sum(by_process.values()),
            'busiest_process_steps': max(by_process.values(), default=0.0)}


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
