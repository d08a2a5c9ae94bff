"""The runs compared side by side, as a user starts them: which `qiime`,
in which environment, with which parallel config file.

Both engines read the same config text (q2-parallel's format is QIIME 2's):
a `default` ThreadPool of 2 threads, and for the HTEX variants a local
2-worker HighThroughputExecutor to which the apply step `square` is mapped
(split and combine stay on `default`).  HTEX listens on 127.0.0.1 only
(left unset, Parsl asks a public web service for an address) and encrypts.
"""
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parent.parent
WORKAROUND_2024_5 = Path(__file__).resolve().parent / 'qiime2_2024_5_fix'

# What a user's shell would not have, or what would point `qiime` at
# another config, environment or interpreter.  PYTHONDONTWRITEBYTECODE goes
# too: a user's installation has its bytecode written (the warm-up run
# writes it here), so start-up is not a compiler's.
_DROPPED = ('QIIME2_CONFIG', 'CONDA_PREFIX', 'XDG_CONFIG_HOME',
            'XDG_CONFIG_DIRS', 'PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV',
            'PYTHONDONTWRITEBYTECODE')


def profile_venv(profile):
    """The venv folder of an environment profile (profiles/PROFILE.env)."""
    for line in (REPO / 'profiles' / f'{profile}.env').read_text().split():
        if line.startswith('VENV_NAME='):
            return REPO / line.split('=', 1)[1]
    raise ValueError(f'profiles/{profile}.env names no VENV_NAME')


@dataclass(frozen=True)
class Framework:
    """A QIIME 2 release in a venv of its own."""
    release: str
    profile: str
    workaround: Optional[Path] = None  # a sitecustomize folder for its runs

    @property
    def venv(self):
        return profile_venv(self.profile)

    def environment(self, home, tmpdir):
        """A private HOME and TMPDIR (so q2cli's cache, QIIME 2's cache and
        every temporary file of the runs stay in the benchmark's folder),
        this venv's programs first on PATH (HTEX starts its worker pools by
        name), and the workaround, if any, on PYTHONPATH."""
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
        path = f'{self.venv / "bin"}{os.pathsep}{env.get("PATH", "")}'
        env.update(HOME=str(home), TMPDIR=str(tmpdir), PATH=path,
                   XDG_CONFIG_HOME=str(Path(home) / '.config'))
        if self.workaround:
            env['PYTHONPATH'] = str(self.workaround)
        return env


QIIME2_2022_11 = Framework('2022.11', 'debian-2022.11')
QIIME2_2024_5 = Framework('2024.5', 'qiime2-2024.5',
                          workaround=WORKAROUND_2024_5)


@dataclass(frozen=True)
class Variant:
    label: str
    framework: Framework
    executors: Optional[str] = None  # None (serial), 'threads' or 'htex'

    def command(self, ints, partitions, burn, output, configs, record_dir):
        """The `qiime` command line; ``configs`` maps 'threads' and 'htex'
        to config files; each apply step leaves a note of its process in
        ``record_dir``."""
        command = [str(self.framework.venv / 'bin' / 'qiime'), 'paralleltest',
                   'square-all', '--i-ints', str(ints),
                   '--p-partitions', str(partitions), '--p-burn', str(burn),
                   '--p-record-dir', str(record_dir),
                   '--o-squared', str(output)]
        if self.executors:
            command += ['--parallel-config', str(configs[self.executors])]
        return command


SERIAL = Variant('serial, QIIME 2 2022.11', QIIME2_2022_11)
Q2P_THREADS = Variant('q2-parallel, ThreadPool (2 threads)', QIIME2_2022_11,
                      'threads')
Q2P_HTEX = Variant('q2-parallel, HTEX (2 workers)', QIIME2_2022_11, 'htex')
Q2_2024_5_THREADS = Variant('QIIME 2 2024.5, ThreadPool (2 threads)',
                            QIIME2_2024_5, 'threads')
Q2_2024_5_HTEX = Variant('QIIME 2 2024.5, HTEX (2 workers)', QIIME2_2024_5,
                         'htex')
ALL = (SERIAL, Q2P_THREADS, Q2P_HTEX, Q2_2024_5_THREADS, Q2_2024_5_HTEX)
HTEX_ONLY = (SERIAL, Q2P_HTEX, Q2_2024_5_HTEX)


def config_texts(run_dir):
    """The two config files' text; Parsl's logs go under ``run_dir``."""
    head = ('[parsl]\nstrategy = "None"\n'
            f'run_dir = {json.dumps(str(run_dir))}\n\n'
            '[[parsl.executors]]\nclass = "ThreadPoolExecutor"\n'
            'label = "default"\nmax_threads = 2\n')
    htex = ('\n[[parsl.executors]]\nclass = "HighThroughputExecutor"\n'
            'label = "htex"\nmax_workers_per_node = 2\n'
            'address = "127.0.0.1"\nencrypted = true\n\n'
            '[parsl.executors.provider]\nclass = "LocalProvider"\n'
            'init_blocks = 1\nmax_blocks = 1\n\n'
            '[parsl.executor_mapping]\nsquare = "htex"\n')
    return {'threads': head, 'htex': head + htex}
