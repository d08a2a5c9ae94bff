"""`python -m q2_parallel.config show|validate|init`: see which config is in
effect and why, check a file, write a starting file; errors are a message
and exit status 1, never a traceback."""
import subprocess
import sys

import pytest

from .helpers import isolated_env
from .test_config_fixtures import DATA, place


@pytest.fixture
def run(tmp_path):
    """Run the command in a private HOME/XDG tree and no CONDA_PREFIX."""
    def run_command(*args, **extra_env):
        env = isolated_env(tmp_path / 'home',
                           XDG_CONFIG_DIRS=tmp_path / 'site',
                           XDG_CACHE_HOME=tmp_path / 'cache', **extra_env)
        return subprocess.run(
            [sys.executable, '-m', 'q2_parallel.config', *args], env=env,
            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    (tmp_path / 'home').mkdir()
    return run_command


def assert_clean_failure(result, *words):
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    for word in words:
        assert word in result.stderr


def test_show_names_the_file_the_step_and_what_it_resolves_to(run,
                                                              tmp_path):
    user = place(tmp_path / 'home' / '.config' / 'qiime2'
                 / 'qiime2_config.toml', (DATA / 'spec-7-workers.toml')
                 .read_text())
    result = run('show')
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert ('Engine:      q2-parallel (QIIME 2 2022.11 has no engine of its'
            ' own)') in out
    assert f'Config file: {user}' in out
    assert 'lookup step 2 (user config dir)' in out
    assert ("htex: HighThroughputExecutor(label='htex',"
            " max_workers_per_node=7, provider=LocalProvider(),"
            " address='127.0.0.1', encrypted=True)") in out
    assert '(encrypted, worker ports listen on 127.0.0.1)' in out
    assert "strategy='none'" in out and str(tmp_path / 'cache') in out
    assert 'some_action -> htex' in out


def test_show_without_any_file_writes_nothing(run, tmp_path):
    (tmp_path / 'env' / 'etc').mkdir(parents=True)
    result = run('show', CONDA_PREFIX=tmp_path / 'env')
    assert result.returncode == 0, result.stderr
    assert 'Config file: (the built-in default)' in result.stdout
    assert 'would write it to' in result.stdout
    assert list((tmp_path / 'env' / 'etc').iterdir()) == []


def test_show_reports_a_bad_qiime2_config(run, tmp_path):
    result = run('show', QIIME2_CONFIG=tmp_path / 'nope.toml')
    assert_clean_failure(result, '$QIIME2_CONFIG names', 'does not exist')


def test_validate_accepts_a_good_file(run):
    result = run('validate', str(DATA / 'slurm-single-node.toml'))
    assert result.returncode == 0, result.stderr
    assert 'is a valid parallel config' in result.stdout
    assert 'SlurmProvider(' in result.stdout


def test_validate_rejects_a_bad_file(run, tmp_path):
    bad = place(tmp_path / 'bad.toml', (DATA / 'spec-7-workers.toml')
                .read_text().replace('"LocalProvider"', '"LocalProvidr"'))
    result = run('validate', str(bad))
    assert_clean_failure(result, str(bad),
                         '`parsl.executors[1].provider.class`',
                         'Did you mean "LocalProvider"')


def test_init_writes_the_default_and_never_overwrites(run, tmp_path):
    path = tmp_path / 'mine.toml'
    result = run('init', str(path))
    assert result.returncode == 0, result.stderr
    assert 'max_workers_per_node = ' in path.read_text()
    assert run('validate', str(path)).returncode == 0
    path.write_text('# edited\n')
    assert_clean_failure(run('init', str(path)), 'already exists')
    assert path.read_text() == '# edited\n'


def test_init_slurm_template_is_valid(run, tmp_path):
    path = tmp_path / 'slurm.toml'
    assert run('init', str(path), '--cluster', 'slurm').returncode == 0
    text = path.read_text()
    assert 'class = "SlurmProvider"' in text and 'SrunLauncher' in text
    result = run('validate', str(path))
    assert result.returncode == 0, result.stderr
    assert "default: HighThroughputExecutor(label='default', address=" \
        in result.stdout


def test_unencrypted_executor_is_accepted_with_one_warning(run, tmp_path):
    path = place(tmp_path / 'open.toml', (DATA / 'spec-7-workers.toml')
                 .read_text().replace('max_workers = 7', 'max_workers = 7\n'
                                      'address = "0.0.0.0"\n'
                                      'encrypted = false')
                 .replace('some_action', 'square'))
    result = run('validate', str(path))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f'q2-parallel: warning: {path}: parsl.executors[1].encrypted = false'
        " leaves the executor 'htex' unencrypted: anyone who can reach its"
        ' ports (every account on this machine, and every host that can'
        " reach its address) can take its steps' data or send back results"
        ' that run code as you.']
    assert '(NOT encrypted, worker ports listen on every interface)' \
        in result.stdout


TYPO_MAPPING = '''[parsl]
strategy = "None"

[[parsl.executors]]
class = "ThreadPoolExecutor"
label = "default"

[parsl.executor_mapping]
squre = "default"
[parsl.executor_mapping.paraleltest]
square = "default"
[parsl.executor_mapping.paralleltest]
squaer_all = "default"
square = "default"
'''


def test_mapping_typos_fail_validate_naming_the_keys(run, tmp_path):
    path = place(tmp_path / 'typo.toml', TYPO_MAPPING)
    result = run('validate', str(path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f'Error: Parallel config {path}, key'
                               ' `parsl.executor_mapping.squre`: names no'
                               ' action of any installed plugin. Did you'
                               ' mean "square"')
    assert ('key `parsl.executor_mapping.paraleltest`: names no installed'
            ' plugin. Did you mean "paralleltest"') in lines[1]
    assert ('key `parsl.executor_mapping.paralleltest.squaer_all`: names no'
            ' action of the plugin paralleltest. Did you mean "square-all"'
            ) in lines[2]
    assert len(lines) == 3


def test_show_warns_of_mapping_entries_that_map_nothing(run, tmp_path):
    place(tmp_path / 'home' / '.config' / 'qiime2' / 'qiime2_config.toml',
          TYPO_MAPPING)
    result = run('show')
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.splitlines()
    assert len(warnings) == 3
    assert all(line.startswith('q2-parallel: warning: Parallel config ')
               and line.endswith('It maps nothing here.')
               for line in warnings)
