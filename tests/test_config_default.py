"""The default config: sized for the CPUs this process may use, written
atomically and only once, and really loadable in Parsl (as are the spec's
example files)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from q2_parallel.config import (ConfigError, default_config_text,
                                executor_label, get_config_from_file,
                                usable_cpu_count, write_default_config)

from .test_config_fixtures import DATA, places_fixture  # noqa: F401

VENV_BIN = Path(sys.executable).parent


def worker_count_in(env_changes=(), prefix=()):
    """The default's worker count as a fresh process computes it."""
    env = dict(os.environ, **dict(env_changes))
    code = ('from q2_parallel.config.default import default_worker_count;'
            ' print(default_worker_count())')
    return int(subprocess.run([*prefix, sys.executable, '-c', code],
                              env=env, capture_output=True, text=True,
                              check=True).stdout)


def test_worker_count_follows_a_slurm_allocation(places):
    assert worker_count_in({'SLURM_CPUS_ON_NODE': '5'}) == 4
    assert worker_count_in({'SLURM_CPUS_ON_NODE': '1'}) == 1


def test_worker_count_never_fails_on_a_strange_slurm_value(places):
    assert worker_count_in({'SLURM_CPUS_ON_NODE': 'lots'}) == max(
        usable_cpu_count() - 1, 1)


@pytest.mark.skipif(not shutil.which('taskset'), reason='needs taskset')
def test_cpu_count_follows_the_affinity_not_the_machine(places):
    code = ('from q2_parallel.config import usable_cpu_count;'
            ' print(usable_cpu_count())')
    pinned = subprocess.run(['taskset', '-c', '0', sys.executable, '-c',
                             code], capture_output=True, text=True,
                            check=True).stdout
    assert int(pinned) == 1


def test_default_text_has_numbers_and_current_names(places):
    text = default_config_text()
    workers = max(usable_cpu_count() - 1, 1)
    assert f'max_threads = {workers}\n' in text
    assert f'max_workers_per_node = {workers}\n' in text
    assert 'address = "127.0.0.1"' in text
    assert 'max_workers =' not in text
    assert '\nsome_action' not in text  # the example mapping is a comment


def test_default_written_then_read_gives_the_spec_config(places, tmp_path):
    from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
    from parsl.providers import LocalProvider
    path = tmp_path / 'qiime2_config.toml'
    assert write_default_config(path) is True
    config, mapping = get_config_from_file(path)
    workers = max(usable_cpu_count() - 1, 1)
    threads, htex = config.executors
    assert (type(threads), threads.label, threads.max_threads) == (
        ThreadPoolExecutor, 'default', workers)
    assert (type(htex), htex.label, htex.max_workers_per_node) == (
        HighThroughputExecutor, 'htex', workers)
    assert type(htex.provider) is LocalProvider
    assert htex.address == '127.0.0.1'
    assert htex.heartbeat_period == 2  # a dead worker is noticed soon
    assert config.strategy == 'none'
    assert mapping == {}


def test_default_is_never_written_over_a_file(places, tmp_path):
    path = tmp_path / 'qiime2_config.toml'
    path.write_text('# mine\n')
    assert write_default_config(path) is False
    assert path.read_text() == '# mine\n'
    assert os.listdir(tmp_path) == ['qiime2_config.toml']


def test_default_cannot_be_written_into_a_missing_directory(places,
                                                            tmp_path):
    with pytest.raises(ConfigError, match='could not be written to'):
        write_default_config(tmp_path / 'no' / 'qiime2_config.toml')


def test_racing_writers_leave_one_whole_file(places, tmp_path):
    path = tmp_path / 'qiime2_config.toml'
    code = ('import sys; from q2_parallel.config import write_default_config'
            '; print(write_default_config(sys.argv[1]))')
    writers = [subprocess.Popen([sys.executable, '-c', code, str(path)],
                                stdout=subprocess.PIPE, text=True)
               for _ in range(4)]
    results = sorted(writer.communicate()[0].strip() for writer in writers)
    assert results == ['False', 'False', 'False', 'True']
    assert path.read_text() == default_config_text()
    assert os.listdir(tmp_path) == ['qiime2_config.toml']


@pytest.fixture
def parsl_env(places, monkeypatch):
    """Parsl's HTEX finds its interchange on PATH: put the venv's bin there
    (the engine has to do the same for a venv that is not activated)."""
    monkeypatch.setenv('PATH', f'{VENV_BIN}{os.pathsep}{os.environ["PATH"]}')
    return places


def run_on(label):
    """The process id an app sees on the executor `label`."""
    import parsl

    @parsl.python_app(executors=[label])
    def process_id():
        import os
        return os.getpid()
    return process_id().result(timeout=120)


def test_default_config_loads_in_parsl(parsl_env, tmp_path):
    import parsl
    path = tmp_path / 'qiime2_config.toml'
    write_default_config(path)
    config, _ = get_config_from_file(path)
    with parsl.load(config):
        assert run_on('default') == os.getpid()
    run_dir = parsl_env.cache / 'qiime2' / 'parallel' / 'runinfo'
    assert sorted(os.listdir(run_dir)) == ['000']  # Parsl's logs, kept


def test_spec_file_without_mapping_loads_in_parsl(parsl_env):
    import parsl
    config, _ = get_config_from_file(DATA / 'spec-7-workers-no-mapping.toml')
    with parsl.load(config):
        assert run_on('default') == os.getpid()


@pytest.mark.slow  # starts real HTEX workers
def test_spec_file_runs_mapped_action_on_htex(parsl_env):
    """The one HTEX run of these tests (about 6 s): the spec's file, its
    mapped action on worker processes, the rest in threads."""
    import parsl
    config, mapping = get_config_from_file(DATA / 'spec-7-workers.toml')
    with parsl.load(config):
        mapped = executor_label(mapping, 'any_plugin', 'some_action')
        assert mapped == 'htex'
        assert run_on(mapped) != os.getpid()
        assert run_on(executor_label(mapping, 'any_plugin', 'other')) \
            == os.getpid()
