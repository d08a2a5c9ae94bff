"""`qiime … --parallel` and `--parallel-config FILE` runs of the real `qiime`:
outputs equal the serial run's, failures and bad configs are reported the
q2cli way and leave no output, Ctrl-C stops everything, progress shows on a
terminal only."""
import os
import pathlib
import re
import select
import subprocess
import time
import zipfile

import psutil
import pytest

from tests.helpers import QIIME, parallel_config_toml, run_qiime
from tests.test_cli_deployment import (install_cli_test_plugin, plugin_env,
                                       words)

# Slow: runs the real qiime in subprocesses.
pytestmark = pytest.mark.slow

THREADS = parallel_config_toml()
CONFIGS = {
    'threads': THREADS,
    'htex': parallel_config_toml(threads=False, htex='default'),
    'mixed': parallel_config_toml(htex='htex', mapping={'square': 'htex'}),
}
BAD_CONFIGS = {
    'toml syntax': '[parsl\nstrategy = "None"\n',
    'no [parsl] table': '[qiime2]\nstrategy = "None"\n',
    'no default executor': THREADS.replace('"default"', '"threads"'),
    'unknown executor class': THREADS.replace('ThreadPoolExecutor',
                                              'ThreadPoolExecuter'),
    'value out of range': THREADS.replace('max_threads = 2',
                                          'max_threads = 0'),
    'mapping to unknown label': THREADS
    + 'run_dir = "{run_dir}"\n\n[parsl.executor_mapping]\nsquare = "htex"\n',
}
# a*a + b*b and a*a for the serial run of the outputs below
A, B, TOTAL, SQUARE_OF_A = 2, 3, 13, 4


def sum_of_squares(tmp_path, plugin_dir, *options, a=A, delay=0.0,
                   **env_extra):
    """Run `qiime cli-test sum-of-squares` into tmp_path/out; steps trace
    into tmp_path/trace."""
    (tmp_path / 'out').mkdir(exist_ok=True)
    (tmp_path / 'tmp').mkdir(exist_ok=True)  # its own cache and recycle pool
    env = plugin_env(tmp_path, plugin_dir, CLI_TEST_TRACE=tmp_path / 'trace',
                     **{'TMPDIR': tmp_path / 'tmp', **env_extra})
    return run_qiime(
        'cli-test', 'sum-of-squares', '--p-a', str(a), '--p-b', str(B),
        '--p-delay', str(delay), '--o-total', str(tmp_path / 'out' / 'total'),
        '--o-square-of-a', str(tmp_path / 'out' / 'square'), *options,
        env=env, cwd=tmp_path)


def number_in(artifact):
    """The number a CliTestNumber artifact holds, and its type line."""
    with zipfile.ZipFile(artifact) as archive:
        data, = [n for n in archive.namelist()
                 if n.endswith('/data/number.txt')]
        metadata, = [n for n in archive.namelist()
                     if n.count('/') == 1 and n.endswith('/metadata.yaml')]
        type_line, = [line for line in archive.read(metadata).decode()
                      .splitlines() if line.startswith('type:')]
        return int(archive.read(data)), type_line


def outputs(tmp_path):
    return sorted(p.name for p in (tmp_path / 'out').iterdir())


def steps(tmp_path):
    """(step, pid, 'main' or 'thread') for every step the run traced."""
    lines = (tmp_path / 'trace').read_text().splitlines()
    return [(step, int(pid), thread) for step, pid, thread in
            (line.split() for line in lines)]


def write_config(tmp_path, text):
    path = tmp_path / 'parallel.toml'
    path.write_text(text)
    return path


@pytest.fixture(scope='module')
def cli_plugin_dir(tmp_path_factory):
    return install_cli_test_plugin(tmp_path_factory.mktemp('cli-test-plugin'))


@pytest.fixture(scope='module')
def serial_outputs(tmp_path_factory, cli_plugin_dir):
    tmp_path = tmp_path_factory.mktemp('serial')
    result = sum_of_squares(tmp_path, cli_plugin_dir)
    assert result.returncode == 0, result.stderr
    assert all(thread == 'main' for _, _, thread in steps(tmp_path))
    return {name: number_in(tmp_path / 'out' / name)
            for name in ('total.qza', 'square.qza')}


def assert_same_outputs(tmp_path, serial_outputs):
    assert outputs(tmp_path) == ['square.qza', 'total.qza']
    for name, expected in serial_outputs.items():
        assert number_in(tmp_path / 'out' / name) == expected
    assert serial_outputs['total.qza'][0] == TOTAL
    assert serial_outputs['square.qza'][0] == SQUARE_OF_A


@pytest.mark.parametrize('config', sorted(CONFIGS))
def test_parallel_config_runs_like_serial_on_the_mapped_executors(
        config, tmp_path, cli_plugin_dir, serial_outputs):
    """--parallel-config alone (it implies --parallel)."""
    config_file = write_config(tmp_path, CONFIGS[config])
    result = sum_of_squares(tmp_path, cli_plugin_dir,
                            '--parallel-config', str(config_file))
    assert result.returncode == 0, result.stderr
    assert 'Saved CliTestNumber to' in result.stdout
    assert 'steps:' not in result.stderr  # stderr is not a terminal
    assert_same_outputs(tmp_path, serial_outputs)

    traced = steps(tmp_path)
    qiime_pid, = {pid for step, pid, _ in traced if step == 'sum_of_squares'}
    traced = [trace for trace in traced if trace[0] != 'sum_of_squares']
    in_workers = {step for step, pid, _ in traced if pid != qiime_pid}
    in_threads = {step for step, pid, thread in traced
                  if pid == qiime_pid and thread == 'thread'}
    expected = {'threads': (set(), {'make_number', 'square'}),
                'htex': ({'make_number', 'square'}, set()),
                'mixed': ({'square'}, {'make_number'})}[config]
    assert (in_workers, in_threads) == expected


def test_parallel_uses_the_file_named_by_qiime2_config(
        tmp_path, cli_plugin_dir, serial_outputs):
    config_file = write_config(tmp_path, CONFIGS['threads'])
    result = sum_of_squares(tmp_path, cli_plugin_dir, '--parallel',
                            QIIME2_CONFIG=config_file)
    assert result.returncode == 0, result.stderr
    assert_same_outputs(tmp_path, serial_outputs)
    assert {thread for step, _, thread in steps(tmp_path)
            if step == 'square'} == {'thread'}


def test_parallel_writes_and_uses_the_default_in_conda_prefix(
        tmp_path, cli_plugin_dir, serial_outputs):
    prefix = tmp_path / 'conda-env'
    (prefix / 'etc').mkdir(parents=True)
    result = sum_of_squares(tmp_path, cli_plugin_dir, '--parallel',
                            CONDA_PREFIX=prefix)
    assert result.returncode == 0, result.stderr
    assert_same_outputs(tmp_path, serial_outputs)
    written = (prefix / 'etc' / 'qiime2_config.toml').read_text()
    assert 'ThreadPoolExecutor' in written
    assert 'HighThroughputExecutor' in written


@pytest.mark.parametrize('verbose, config', [(False, 'mixed'),
                                             (True, 'threads')])
def test_failing_step_is_reported_and_nothing_is_saved(
        verbose, config, tmp_path, cli_plugin_dir):
    config_file = write_config(tmp_path, CONFIGS[config])
    result = sum_of_squares(tmp_path, cli_plugin_dir, '--parallel-config',
                            str(config_file), *(['--verbose'] * verbose),
                            a=13)
    assert result.returncode == 1
    stderr = words(result.stderr)
    assert 'Plugin error from cli-test:' in stderr
    assert 'square' in stderr
    assert 'ValueError: 13 is an unlucky number to square' in stderr
    assert ('Traceback' in stderr) is verbose
    assert ('Debug info has been saved to' in stderr) is not verbose
    logs = re.search(r"Parsl's logs of this run are kept in (\S+)", stderr)
    assert (pathlib.Path(logs.group(1)) / 'parsl.log').exists()
    assert outputs(tmp_path) == []


PRINTED_BY_SQUARE = '--- printed by the step cli-test square in a worker'


@pytest.mark.parametrize('verbose', [True, False])
def test_what_a_worker_step_prints_shows_with_verbose_only(
        verbose, tmp_path, cli_plugin_dir):
    config_file = write_config(tmp_path, CONFIGS['mixed'])
    result = sum_of_squares(tmp_path, cli_plugin_dir, '--parallel-config',
                            str(config_file), *(['--verbose'] * verbose),
                            CLI_TEST_PRINT=1)
    assert result.returncode == 0, result.stderr
    shown = result.stdout + result.stderr
    for number in (A, B):
        assert (f'squaring {number}\n' in shown) is verbose
        assert (f'a program squaring {number}\n' in shown) is verbose
    assert shown.count(PRINTED_BY_SQUARE) == (2 if verbose else 0)


def test_what_a_failed_worker_step_printed_is_in_the_debug_log(
        tmp_path, cli_plugin_dir):
    config_file = write_config(tmp_path, CONFIGS['mixed'])
    result = sum_of_squares(tmp_path, cli_plugin_dir, '--parallel-config',
                            str(config_file), a=13, CLI_TEST_PRINT=1)
    assert result.returncode == 1
    assert 'squaring 13' not in result.stderr
    log = re.search(r'Debug info has been saved to (\S+)',
                    words(result.stderr)).group(1)
    printed = pathlib.Path(log).read_text()
    assert PRINTED_BY_SQUARE in printed
    assert 'squaring 13\na program squaring 13\n' in printed


def test_output_that_cannot_be_saved_leaves_no_other_output(
        tmp_path, cli_plugin_dir):
    """q2cli saves `total` first; `square` cannot be written over a folder."""
    (tmp_path / 'out' / 'square.qza').mkdir(parents=True)
    config_file = write_config(tmp_path, CONFIGS['threads'])
    result = sum_of_squares(tmp_path, cli_plugin_dir, '--parallel-config',
                            str(config_file))
    assert result.returncode == 1
    assert 'The outputs could not be saved, so none was kept' in result.stderr
    assert 'Is a directory' in result.stderr
    assert outputs(tmp_path) == ['square.qza']  # the folder, as before


@pytest.mark.parametrize('case', sorted(BAD_CONFIGS))
def test_bad_config_file_is_a_parallel_configuration_error(
        case, tmp_path, cli_plugin_dir):
    run_dir = tmp_path / 'runinfo'
    config_file = write_config(
        tmp_path, BAD_CONFIGS[case].replace('{run_dir}', str(run_dir)))
    result = sum_of_squares(tmp_path, cli_plugin_dir,
                            '--parallel-config', str(config_file))
    assert_configuration_error(result, config_file, tmp_path)
    assert not run_dir.exists()  # no Parsl executor was started


def test_missing_config_files_are_parallel_configuration_errors(
        tmp_path, cli_plugin_dir):
    missing = tmp_path / 'missing.toml'
    named = sum_of_squares(tmp_path, cli_plugin_dir,
                           '--parallel-config', str(missing))
    assert_configuration_error(named, missing, tmp_path)
    from_env = sum_of_squares(tmp_path, cli_plugin_dir, '--parallel',
                              QIIME2_CONFIG=missing)
    assert_configuration_error(from_env, missing, tmp_path)


def assert_configuration_error(result, config_file, tmp_path):
    assert result.returncode == 1
    stderr = words(result.stderr)
    assert 'parallel configuration error' in stderr
    assert str(config_file) in stderr
    assert 'Plugin error' not in stderr and 'Traceback' not in stderr
    assert outputs(tmp_path) == []
    assert not (tmp_path / 'trace').exists()  # no step ran


def processes_with(env, variable):
    """Every process that has `variable` set as in `env`: the run's own,
    HTEX's workers included (Parsl starts them in their own session)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(variable) == str(env[variable]):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def wait_for_step(trace, step, process, timeout=120, times=1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if trace.exists() and trace.read_text().count(f'{step} ') >= times:
            return
        time.sleep(0.2)
    raise AssertionError(f'{step} did not start within {timeout} s')


def read_terminal(command, env, cwd, timeout=120):
    """Run `command` with stderr on a pseudo-terminal; what it showed."""
    terminal, child_side = os.openpty()
    try:
        process = subprocess.Popen(command, env=env, cwd=cwd,
                                   stdout=subprocess.DEVNULL,
                                   stderr=child_side)
        os.close(child_side)
        shown = b''
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([terminal], [], [], 1)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # the child side is closed: the run is over
                break
            if not chunk:
                break
            shown += chunk
        assert process.wait(timeout=30) == 0, shown.decode()
        return shown.decode()
    finally:
        os.close(terminal)


@pytest.mark.parametrize('quiet', [False, True])
def test_progress_shows_on_a_terminal_unless_quiet(
        quiet, tmp_path, cli_plugin_dir):
    config_file = write_config(tmp_path, CONFIGS['threads'])
    (tmp_path / 'out').mkdir()
    shown = read_terminal(
        [str(QIIME), 'cli-test', 'sum-of-squares', '--p-a', '2', '--p-b',
         '3', '--p-delay', '2', '--o-total', str(tmp_path / 'out' / 't'),
         '--o-square-of-a', str(tmp_path / 'out' / 's'),
         '--parallel-config', str(config_file), *(['--quiet'] * quiet)],
        env=plugin_env(tmp_path, cli_plugin_dir), cwd=tmp_path)
    if quiet:
        assert 'steps:' not in shown
    else:
        assert '\rsteps: ' in shown
        assert ' running, ' in shown and ' waiting \u2014 00:0' in shown
        # The terminal shows a newline as \r\n.
        final = shown.replace('\r\n', '\n').rsplit('\r', 1)[1]
        assert re.match(r'steps: [5-9] done, 0 running, 0 waiting', final)
