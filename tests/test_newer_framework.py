"""q2-parallel installed into a QIIME 2 with its own parallel engine (2024.5,
the qiime2-2024.5 profile): it steps aside, and `qiime` works exactly as
without it.  Only `make test`'s run in that profile selects these tests."""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers import REPO, isolated_env, run_qiime

pytestmark = [pytest.mark.newer_framework, pytest.mark.slow]

SEQUENCES = REPO / 'tests' / 'data' / 'demo' / 'seqs.fna'


@pytest.fixture(scope='module')
def home():
    """A private HOME whose q2cli cache is already built (q2cli says so on
    the first call of a new deployment, with or without q2-parallel)."""
    with tempfile.TemporaryDirectory(prefix='q2p-newer-') as home:
        first = run_qiime('info', home=home)
        assert first.returncode == 0, first.stderr
        yield Path(home)


def python(code, home):
    return subprocess.run([sys.executable, '-c', code], text=True,
                          capture_output=True, timeout=300,
                          env=isolated_env(home))


def test_qiime_works_and_prints_nothing_extra(home):
    info = run_qiime('info', home=home)
    assert info.returncode == 0
    assert info.stderr == ''
    assert 'QIIME 2 release: 2024.5' in info.stdout
    assert 'parallel: 2022.11.0' in info.stdout  # the demo plugin still loads


def test_pipelines_have_the_frameworks_options_once(home):
    result = run_qiime('parallel', 'dereplicate', '--help', home=home)
    assert result.returncode == 0, result.stderr
    options = re.findall(r'^  (--parallel\S*)(?: [A-Z]+)?  ', result.stdout,
                         re.M)
    assert options == ['--parallel', '--parallel-config']


def test_python_api_is_the_frameworks(home):
    result = python(
        'import q2_parallel, qiime2.sdk.parallel_config as framework\n'
        'from qiime2.plugins import parallel\n'
        'from q2_parallel.engine import hooks\n'
        'assert q2_parallel.ParallelConfig is framework.ParallelConfig\n'
        'assert not hooks._installed\n'
        'print(type(parallel.pipelines.dereplicate.parallel).__name__)\n',
        home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'function'


def test_a_config_file_we_write_runs_under_the_frameworks_engine(home):
    config = home / 'written.toml'
    init = subprocess.run(
        [sys.executable, '-m', 'q2_parallel.config', 'init', str(config)],
        capture_output=True, text=True, env=isolated_env(home), timeout=120)
    assert init.returncode == 0, init.stderr
    work = home / 'work'
    work.mkdir()
    imported = run_qiime('tools', 'import', '--type', 'SampleSequences',
                         '--input-path', str(SEQUENCES),
                         '--output-path', str(work / 'seqs.qza'), home=home)
    assert imported.returncode == 0, imported.stderr
    tables = {}
    for name, options in (('serial', []),
                          ('parallel', ['--parallel-config', str(config)])):
        result = run_qiime(
            'parallel', 'dereplicate', '--i-sequences', str(work / 'seqs.qza'),
            '--p-partitions', '4', '--o-table', str(work / f'{name}-table'),
            '--o-representative-sequences', str(work / f'{name}-seqs'),
            *options, home=home)
        assert result.returncode == 0, result.stderr
        tables[name] = work / f'{name}-table.qza'
    read = python(
        'import sys, qiime2, pandas as pd\n'
        'a, b = (qiime2.Artifact.load(p).view(pd.DataFrame)\n'
        '        for p in sys.argv[1:])\n'
        'print(a.equals(b))\n'.replace('sys.argv[1:]', repr(
            [str(tables['serial']), str(tables['parallel'])])), home)
    assert read.stdout.strip() == 'True', read.stderr


def test_config_tool_says_the_framework_is_in_charge(home):
    show = subprocess.run([sys.executable, '-m', 'q2_parallel.config', 'show'],
                          capture_output=True, text=True, timeout=120,
                          env=isolated_env(home))
    assert show.returncode == 0, show.stderr
    assert ("Engine:      QIIME 2 2024.5's own (q2-parallel steps aside"
            in show.stdout)


def test_every_file_we_write_loads_under_the_frameworks_reader(home):
    result = python(
        'import subprocess, sys, warnings\n'
        'from pathlib import Path\n'
        'from qiime2.sdk.parallel_config import get_config_from_file\n'
        'from q2_parallel.config import write_default_config\n'
        'warnings.simplefilter("error")\n'
        f'folder = Path({str(home)!r}) / "written"\n'
        'folder.mkdir()\n'
        'for args in (["init", "local.toml"],\n'
        '             ["init", "slurm.toml", "--cluster", "slurm"]):\n'
        '    subprocess.run([sys.executable, "-m", "q2_parallel.config",\n'
        '                    *args], cwd=folder, check=True)\n'
        'write_default_config(folder / "default.toml")\n'
        'for name in ("local.toml", "slurm.toml", "default.toml"):\n'
        '    config, mapping = get_config_from_file(folder / name)\n'
        '    labels = [e.label for e in config.executors]\n'
        '    assert config.strategy == "none" and "default" in labels\n'
        '    for e in config.executors:\n'
        '        if type(e).__name__ == "HighThroughputExecutor":\n'
        '            assert e.address, name\n'
        '    print(name, "loads")\n', home)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines()
            if line.endswith(' loads')] == [
        'local.toml loads', 'slurm.toml loads', 'default.toml loads']
