"""Worker start-up with Debian's real QIIME 2 plugins (issue 17), measured
in the plugins-2022.11 venv, each figure the median of fresh processes:

- T_load: ``qiime2.sdk.PluginManager()`` in a fresh process (the main
  process pays it once before a run);
- T_first: from entering ``with ParallelConfig(...)`` to the start of the
  first step mapped to a 2-worker local HTEX (``mafft`` of ``phylogeny
  align-to-tree-mafft-fasttree``), as the run report records it and as the
  ``mafft`` program itself saw it (a wrapper first on PATH notes the time);
- that Pipeline end to end, serially and with ``mafft`` (and ``fasttree``)
  on the HTEX; every run's outputs must be the serial run's.

Runs from any Python with psutil (``make bench`` calls it from
``run.py``); the children run in the profile's venv, in a temporary folder
(their TMPDIR, cache and Parsl run folder) removed afterwards, and any of
their processes still alive at the end is named and ended.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
RUNS = Path(__file__).with_name('plugin_startup_runs.py')
PROFILE = 'plugins-2022.11'
# Pipeline variants: label -> actions mapped to the HTEX.
VARIANTS = {'serial': [], 'mafft on HTEX': ['mafft'],
            'mafft, fasttree on HTEX': ['mafft', 'fasttree']}
MARK = 'Q2P_BENCH_PLUGIN_STARTUP'  # in the environment of every child


def profile_python(profile=PROFILE):
    """The profile's venv Python (profiles/PROFILE.env), or None if that
    venv is not built (``make bench`` builds it)."""
    env = (ROOT / 'profiles' / f'{profile}.env').read_text()
    name = next(line.split('=', 1)[1].strip('"')
                for line in env.splitlines()
                if line.startswith('VENV_NAME='))
    python = ROOT / name / 'bin' / 'python'
    return python if python.exists() else None


def write_sequences(path, count=40, length=300, seed=17):
    """``count`` related DNA sequences (substitutions and short indels of
    one random ancestor), so that mafft has gaps to place and FastTree a
    tree to find; the same every time."""
    rng = random.Random(seed)
    ancestor = [rng.choice('ACGT') for _ in range(length)]
    with open(path, 'w') as fh:
        for number in range(count):
            seq = list(ancestor)
            for _ in range(rng.randint(5, 40)):
                seq[rng.randrange(len(seq))] = rng.choice('ACGT')
            for _ in range(rng.randint(0, 3)):
                at = rng.randrange(len(seq) - 3)
                if rng.random() < 0.5:
                    del seq[at:at + rng.randint(1, 3)]
                else:
                    seq[at:at] = rng.choices('ACGT', k=rng.randint(1, 3))
            fh.write(f'>seq{number:02d}\n{"".join(seq)}\n')


def write_program_wrapper(folder, program='mafft'):
    """A ``program`` first on PATH that notes when it starts, then runs
    the real one."""
    real = shutil.which(program)
    if real is None:
        raise SystemExit(f'{program} is not installed: run `make bench`, '
                         f'which installs it with the {PROFILE} profile.')
    wrapper = Path(folder) / program
    wrapper.write_text(
        '#!/bin/sh\n'
        'date +%s.%N >> "$Q2P_BENCH_PROGRAM_LOG"\n'
        f'exec {real} "$@"\n')
    wrapper.chmod(0o755)


class Children:
    """Fresh processes of the profile's venv, each in a folder of its own
    under ``tmp`` (its working directory: outputs, report, Parsl's run
    folder), with a private TMPDIR and cache."""

    def __init__(self, python, tmp):
        self.python = python
        self.tmp = Path(tmp)
        self.mark = uuid.uuid4().hex
        self.count = 0
        (self.tmp / 'bin').mkdir()
        (self.tmp / 'tmp').mkdir()
        write_program_wrapper(self.tmp / 'bin')

    def run(self, *args):
        self.count += 1
        folder = self.tmp / f'run-{self.count}'
        folder.mkdir()
        env = {**os.environ, MARK: self.mark,
               'PATH': os.pathsep.join([str(self.tmp / 'bin'),
                                        str(self.python.parent),
                                        os.environ.get('PATH', '')]),
               'TMPDIR': str(self.tmp / 'tmp'),
               'XDG_CACHE_HOME': str(self.tmp / 'cache'),
               'Q2P_BENCH_PROGRAM_LOG': str(folder / 'programs.log')}
        done = subprocess.run(
            [str(self.python), str(RUNS), *map(str, args)], cwd=folder,
            env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f'{RUNS.name} {" ".join(map(str, args))} '
                               f'failed:\n{done.stderr[-3000:]}')
        return json.loads(done.stdout.strip().splitlines()[-1]), folder

    def leftovers(self):
        """End any process still carrying this run's mark; their names."""
        left = []
        for process in psutil.process_iter(['pid', 'name']):
            try:
                if process.environ().get(MARK) == self.mark:
                    left.append(f'{process.info["name"]} '
                                f'(pid {process.pid})')
                    process.kill()
            except (psutil.NoSuchProcess, psutil.AccessDenied,
                    psutil.ZombieProcess):
                continue
        return left


def outputs_digest(folder):
    """A digest of every exported output file under ``folder/outputs``."""
    digest = hashlib.sha256()
    outputs = Path(folder) / 'outputs'
    for path in sorted(outputs.rglob('*')):
        if path.is_file():
            digest.update(str(path.relative_to(outputs)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def measure(python, repeats=5):
    """Medians (and ranges) of ``repeats`` fresh runs of each measurement,
    taken in turns so that the machine's drift hits each alike."""
    samples = {}
    digests = {}
    with tempfile.TemporaryDirectory(prefix='q2p-bench-plugins-') as tmp:
        children = Children(python, tmp)
        sequences = Path(tmp) / 'sequences.fna'
        write_sequences(sequences)
        try:
            for _ in range(repeats):
                facts, _ = children.run('load')
                samples.setdefault('T_load', []).append(facts['load'])
                for label, actions in VARIANTS.items():
                    facts, folder = children.run('pipeline', sequences,
                                                 *actions)
                    _record(samples, label, facts)
                    digests.setdefault(outputs_digest(folder), []).append(
                        label)
        finally:
            left = children.leftovers()
    return samples, digests, left


def _record(samples, label, facts):
    samples.setdefault(f'{label}: wall', []).append(facts['wall'])
    samples.setdefault(f'{label}: mafft started', []).append(
        facts['program_started'])
    if 'results' in facts:
        samples.setdefault(f'{label}: results', []).append(facts['results'])
    if 'first_htex_step' in facts:
        samples.setdefault(f'{label}: first HTEX step started', []).append(
            facts['first_htex_step'])


ROWS = [
    ('T_load', 'T_load: `PluginManager()` in a fresh process'),
    ('mafft on HTEX: first HTEX step started',
     'T_first: block entered -> first HTEX step (`mafft`) started, '
     'run report'),
    ('mafft on HTEX: mafft started',
     'T_first: block entered -> the `mafft` program started on the worker'),
    ('serial: mafft started',
     'serial call -> the `mafft` program started'),
    ('serial: wall', '`align-to-tree-mafft-fasttree`, serial'),
    ('mafft on HTEX: results',
     '`align-to-tree-mafft-fasttree`, `mafft` on HTEX: block entered -> '
     'results'),
    ('mafft on HTEX: wall',
     '`align-to-tree-mafft-fasttree`, `mafft` on HTEX: whole block'),
    ('mafft, fasttree on HTEX: results',
     '`align-to-tree-mafft-fasttree`, `mafft` and `fasttree` on HTEX: '
     'block entered -> results'),
    ('mafft, fasttree on HTEX: wall',
     '`align-to-tree-mafft-fasttree`, `mafft` and `fasttree` on HTEX: '
     'whole block'),
]


def table(samples):
    """The markdown table of medians, with each figure's range."""
    lines = ['| measurement | median (s) | min - max (s) |',
             '|---|---:|---:|']
    for key, title in ROWS:
        values = samples.get(key)
        if values:
            lines.append(f'| {title} | {statistics.median(values):.2f} '
                         f'| {min(values):.2f} - {max(values):.2f} |')
    return '\n'.join(lines)


def report(repeats=5, profile=PROFILE):
    """Measure and print; the lines ``run.py`` shows."""
    python = profile_python(profile)
    if python is None:
        print(f'\nplugin start-up: the {profile} venv is not built '
              f'(`make bench` builds it: scripts/bootstrap-venv.sh {profile})')
        return
    busy = os.getloadavg()[0]
    samples, digests, left = measure(python, repeats)
    print(f'\nWorker start-up with the {profile} plugins '
          f'(medians of {repeats} fresh processes; load average '
          f'{busy:.1f} before, {os.getloadavg()[0]:.1f} after):\n')
    print(table(samples))
    load = statistics.median(samples['T_load'])
    ratios = [f'{statistics.median(samples[key]) / load:.1f} ({how})'
              for key, how in (
                  ('mafft on HTEX: mafft started', 'the program started'),
                  ('mafft on HTEX: first HTEX step started', 'run report'))]
    print('\nT_first / T_load (issue 17 asks for at most 1): '
          + ', '.join(ratios))
    if len(digests) == 1:
        print('outputs: every run gave the serial run\'s outputs')
    else:
        print('outputs DIFFER between runs: '
              + '; '.join(f'{", ".join(sorted(set(labels)))}'
                          for labels in digests.values()))
    if left:
        print(f'left running, now ended: {", ".join(left)}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5,
                        help='fresh processes per figure (default 5)')
    parser.add_argument('--profile', default=PROFILE)
    args = parser.parse_args()
    report(args.repeats, args.profile)
    return 0


if __name__ == '__main__':
    sys.exit(main())
