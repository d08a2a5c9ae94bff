"""Shared helpers for the tests: the real `qiime` command, run in isolation."""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
QIIME = VENV_BIN / 'qiime'


def _profile_of(venv):
    """The environment profile (profiles/*.env) whose venv is ``venv``."""
    for env_file in sorted((REPO / 'profiles').glob('*.env')):
        if f'VENV_NAME={venv.name}\n' in env_file.read_text():
            return env_file.stem
    return None


# The environment profile these tests run in (see profiles/README.md).
PROFILE = _profile_of(VENV_BIN.parent)


def isolated_env(home, **extra):
    """Environment for a subprocess with its own HOME and config dirs, so
    q2cli's deployment cache and the config lookup are private to a test."""
    env = dict(os.environ)
    for var in ('QIIME2_CONFIG', 'CONDA_PREFIX', 'XDG_CONFIG_HOME',
                'XDG_CONFIG_DIRS'):
        env.pop(var, None)
    env['HOME'] = str(home)
    env['XDG_CONFIG_HOME'] = str(Path(home) / '.config')
    env['PATH'] = f'{VENV_BIN}{os.pathsep}{env.get("PATH", "")}'
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_qiime(*args, home=None, env=None, timeout=300, **kwargs):
    """Run the real `qiime` command; a fresh HOME unless one is given."""
    with tempfile.TemporaryDirectory(prefix='q2p-home-') as fresh_home:
        env = env if env is not None else isolated_env(home or fresh_home)
        return subprocess.run([str(QIIME), *args], env=env, text=True,
                              capture_output=True, timeout=timeout, **kwargs)


def parallel_config_toml(*, threads=True, htex=None, mapping=None,
                         heartbeat_period=None, htex_options=None,
                         run_dir=None):
    """A parallel config file's text for the tests: a 2-thread pool labelled
    `default`, a 2-worker local HTEX labelled `htex` if given (with more
    `htex_options`), and the mapping of actions to labels."""
    tables = ['[parsl]\nstrategy = "None"\n' + (
        '' if run_dir is None else f'run_dir = {json.dumps(str(run_dir))}\n')]
    if threads:
        tables.append('[[parsl.executors]]\nclass = "ThreadPoolExecutor"\n'
                      'label = "default"\nmax_threads = 2\n')
    if htex:
        heartbeat = (f'heartbeat_period = {heartbeat_period}\n'
                     if heartbeat_period else '')
        tables.append('[[parsl.executors]]\n'
                      'class = "HighThroughputExecutor"\n'
                      f'label = "{htex}"\nmax_workers_per_node = 2\n'
                      f'address = "127.0.0.1"\n{heartbeat}'
                      + ''.join(f'{name} = {json.dumps(value)}\n' for
                                name, value in (htex_options or {}).items())
                      + '\n'
                      '[parsl.executors.provider]\nclass = "LocalProvider"\n')
    if mapping:
        tables.append('[parsl.executor_mapping]\n' + ''.join(
            f'{action} = "{label}"\n' for action, label in mapping.items()))
    return '\n'.join(tables)


def venv_seeing_qiime(venv):
    """A venv at `venv` that sees the project venv's site-packages (QIIME 2,
    q2cli, parsl) but not q2-parallel: paths listed in a .pth are importable,
    but their own .pth files (the develop install, the hook) are not read.
    Returns its site-packages and its `qiime` command."""
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(venv)],
                   check=True)
    site = next(venv.glob('lib/python*/site-packages'))
    project_site = next(Path(sys.executable).parent.parent.glob(
        'lib/python*/site-packages'))
    (site / 'project-site.pth').write_text(f'{project_site}\n')
    qiime = venv / 'bin' / 'qiime'
    qiime.write_text(f'#!{venv}/bin/python\nimport sys\n'
                     'from q2cli.__main__ import qiime\nsys.exit(qiime())\n')
    qiime.chmod(0o755)
    return site, qiime
