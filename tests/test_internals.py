"""Every private part of QIIME 2, q2cli and Parsl that q2-parallel relies on
(q2_parallel/internals), checked against the installed releases: a release
that changes one fails here, naming it."""
import inspect
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import zmq
from parsl.config import Config
from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
from parsl.providers import LocalProvider
from qiime2.core.cache import Cache
from qiime2.plugins import paralleltest

from q2_parallel.internals import parsl_private, q2cli_private, qiime2_private
from tests.engine_support import int_list


# QIIME 2 ---------------------------------------------------------------------

def test_framework_is_the_release_the_internals_were_written_for():
    assert qiime2_private.release() == qiime2_private.KNOWN_RELEASE
    assert qiime2_private.is_known_release()
    assert not qiime2_private.has_own_engine()


def test_signed_like_gives_the_actions_signature():
    action = paralleltest.methods.square
    calls = []

    def call(*args, **kwargs):
        calls.append((args[1:], kwargs))

    signed = qiime2_private.signed_like(action, call, 'parallel')
    assert signed.__name__ == 'parallel'
    assert inspect.signature(signed) == inspect.signature(
        action.asynchronous)
    assert signed.__doc__ == action.asynchronous.__doc__
    ints = int_list([1])
    signed(ints)
    assert calls[0][0][0] is ints  # the defaults follow, as for __call__
    with pytest.raises(TypeError):
        signed(ints, not_a_parameter=1)


def test_call_with_context_runs_the_action_with_provenance():
    from qiime2.sdk import Context

    results = qiime2_private.call_with_context(
        paralleltest.methods.square, Context, [int_list([1, 2, 3])], {})
    assert results.squared.view(list) == [1, 4, 9]
    assert results.squared._archiver.provenance_dir.exists()


def test_cache_lock_lets_one_thread_in_at_a_time():
    qiime2_private.lock_cache_per_thread()  # installed once; harmless again
    cache = Cache()
    inside, entered_second = threading.Event(), threading.Event()

    def second():
        with cache.lock:
            entered_second.set()

    with cache.lock:
        with cache.lock:  # re-entrant in the same thread
            inside.set()
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        assert not entered_second.is_set()
    thread.join(timeout=30)
    assert entered_second.is_set()


def test_current_cache_is_per_thread():
    cache = Cache()
    seen = []
    thread = threading.Thread(
        target=lambda: seen.append(qiime2_private.current_cache()))
    with cache:
        assert qiime2_private.current_cache() is cache
        thread.start()
        thread.join()
    assert seen == [None]


def test_results_kept_in_a_pool_load_by_uuid_elsewhere():
    cache = Cache()
    ints = int_list([4, 5])
    with cache:
        pool = cache.create_pool(keys=['q2p_internals_test'])
        try:
            qiime2_private.keep_in_pool(cache, pool, ints)
            other = qiime2_private.open_cache(str(cache.path))
            assert qiime2_private.open_pool(other, pool.name).path \
                == pool.path
            loaded = qiime2_private.load_from_cache(other, str(ints.uuid))
            assert loaded.uuid == ints.uuid
            assert loaded.view(list) == [4, 5]
            assert qiime2_private.process_pool_path(cache).is_dir()
            assert qiime2_private.process_pools_path(cache).is_dir()
            assert (qiime2_private.keys_path(cache)
                    / 'q2p_internals_test').exists()
        finally:
            cache.remove('q2p_internals_test')


def test_parallel_config_module_is_provided():
    from qiime2.sdk import parallel_config

    from q2_parallel import ParallelConfig, config
    assert parallel_config.ParallelConfig is ParallelConfig
    assert parallel_config.get_config_from_file is config.get_config_from_file
    assert parallel_config.get_config_from_dict is config.get_config_from_dict


# In a process of its own (it removes every temporary path of the process),
# ended with os._exit as `qiime` is: a normal exit would remove what the
# clean-up left.  A step in a thread makes a folder while the clean-up
# removes the others (a step returning as `qiime` ends).
CLEAN_UP = textwrap.dedent('''\
    import os, shutil, threading
    from qiime2.core.path import OutPath, ProvenancePath
    from q2_parallel.internals import qiime2_private

    paths = [ProvenancePath(), OutPath(dir=True, prefix='qiime2-out-')]
    rmtree = shutil.rmtree

    def step_returning(*args, **kwargs):
        if len(paths) == 2:
            thread = threading.Thread(
                target=lambda: paths.append(ProvenancePath()))
            thread.start()
            thread.join()
        rmtree(*args, **kwargs)

    shutil.rmtree = step_returning
    qiime2_private.clean_up_as_at_exit()
    os._exit(len(paths))
''')


def test_clean_up_as_at_exit_removes_folders_made_meanwhile(tmp_path):
    result = subprocess.run([sys.executable, '-c', CLEAN_UP],
                            env={**os.environ, 'TMPDIR': str(tmp_path)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stderr  # the folder was made
    assert list(tmp_path.iterdir()) == []


# q2cli -----------------------------------------------------------------------

def test_q2cli_is_the_release_the_internals_were_written_for():
    assert q2cli_private.release() == q2cli_private.KNOWN_RELEASE
    assert q2cli_private.framework_release() == qiime2_private.KNOWN_RELEASE


def test_q2cli_action_commands_get_the_parallel_options():
    import q2cli.commands
    from q2cli.core.cache import CACHE

    assert q2cli.commands.ActionCommand.has_parallel_options
    plugin = CACHE.plugins['paralleltest']
    for action_id, wanted in (('square_all', True), ('square', False)):
        command = q2cli.commands.ActionCommand(
            action_id, plugin, plugin['actions'][action_id])
        names = [param.name for param in command.params]
        assert ('parallel' in names) is wanted
        assert ('parallel_config' in names) is wanted
        assert q2cli_private.command_action(command).id == action_id


def test_q2cli_error_helpers():
    import q2cli.commands
    import q2cli.util

    import click

    assert click.unstyle(q2cli_private.error_style('x')) == 'x'
    parameters = inspect.signature(q2cli.util.exit_with_error).parameters
    assert {'header', 'traceback'} <= set(parameters)
    prefix = q2cli_private.ERROR_LOG_PATTERN.split('*')[0]
    assert f"prefix='{prefix}'" in inspect.getsource(q2cli.commands)


# Parsl -----------------------------------------------------------------------

@pytest.fixture
def thread_config(tmp_path):
    """A one-thread Parsl config whose logs go to a temporary folder."""
    return Config(executors=[ThreadPoolExecutor(label='default',
                                                max_threads=1)],
                  strategy='none', run_dir=str(tmp_path))


def test_dataflow_kernel_runs_steps_and_reports_their_state(thread_config):
    from parsl.app.python import PythonApp

    dfk = parsl_private.new_dataflow_kernel(thread_config)
    try:
        parsl_private.poll_blocks_now(dfk)
        assert list(parsl_private.thread_pool_executors(dfk)) == ['default']
        assert parsl_private.provider_executors(dfk) == []
        gate = threading.Event()
        wait = PythonApp(gate.wait, data_flow_kernel=dfk)
        first = wait(30)
        second = PythonApp(_after, data_flow_kernel=dfk)(first)
        time.sleep(0.2)
        assert parsl_private.step_state(second) == 'waiting'
        gate.set()
        second.result(timeout=30)
        assert parsl_private.step_state(second) == 'done'
    finally:
        dfk.cleanup()


def _after(value):
    return value


def _fail():
    raise ValueError('the first step failed')


def test_dataflow_kernel_names_its_workflow_without_reading_source(
        thread_config):
    """Parsl names a kernel's workflow from ``inspect.stack()``; the
    engine's kernels get the same name without reading every frame's
    source line."""
    from parsl.dataflow import dflow

    assert 'inspect.stack()' in inspect.getsource(dflow.DataFlowKernel)
    dfk = parsl_private.new_dataflow_kernel(thread_config)
    try:
        assert dfk.workflow_name == 'parsl_private.py'
        assert dflow.inspect.stack()[0].code_context is None
    finally:
        dfk.cleanup()


def test_a_dependency_failure_leads_to_its_cause(thread_config):
    from parsl.app.python import PythonApp

    dfk = parsl_private.new_dataflow_kernel(thread_config)
    try:
        failed = PythonApp(_fail, data_flow_kernel=dfk)()
        after = PythonApp(_after, data_flow_kernel=dfk)(failed)
        error = after.exception(timeout=30)
        assert parsl_private.is_propagated_failure(error)
        cause = parsl_private.propagated_cause(error)
        assert isinstance(cause, ValueError)
        assert not parsl_private.is_propagated_failure(failed.exception())
    finally:
        dfk.cleanup()


def test_queued_thread_steps_are_dropped(thread_config):
    from parsl.app.python import PythonApp

    dfk = parsl_private.new_dataflow_kernel(thread_config)
    gate = threading.Event()
    try:
        sleep = PythonApp(gate.wait, data_flow_kernel=dfk)
        running = sleep(30)
        queued = [sleep(30) for _ in range(2)]
        time.sleep(0.2)
        parsl_private.drop_queued_thread_steps(dfk.executors['default'])
        for future in queued:
            assert future.exception(timeout=30) is not None
        gate.set()
        running.result(timeout=30)
    finally:
        gate.set()
        dfk.cleanup()


def test_task_facts_time_each_step_and_name_its_dependencies(
        thread_config):
    from parsl.app.python import PythonApp

    dfk = parsl_private.new_dataflow_kernel(thread_config)
    try:
        assert parsl_private.configured_executors(dfk) == list(
            thread_config.executors)
        first = PythonApp(_after, data_flow_kernel=dfk)(1)
        second = PythonApp(_after, data_flow_kernel=dfk)(first)
        second.result(timeout=30)
        facts = parsl_private.task_facts(second)
    finally:
        dfk.cleanup()
    assert facts['status'] == 'exec_done'
    assert facts['depends'] == [first]
    assert (facts['invoked'] <= facts['launched'] <= facts['returned']
            <= facts['done'] <= time.time())
    assert (facts['tries_failed'], facts['reused']) == (0, False)


def test_worker_place_reads_the_variables_htex_workers_get(monkeypatch):
    from parsl.executors.high_throughput import process_worker_pool

    assert parsl_private.worker_place() == {}
    monkeypatch.setenv('PARSL_WORKER_BLOCK_ID', '3')
    monkeypatch.setenv('PARSL_WORKER_RANK', '1')
    assert parsl_private.worker_place() == {'block': '3', 'worker': '1'}
    source = inspect.getsource(process_worker_pool)
    assert "os.environ['PARSL_WORKER_BLOCK_ID']" in source
    assert "os.environ['PARSL_WORKER_RANK']" in source


CHECKED = textwrap.dedent('''\
    import sys
    from q2_parallel.internals import parsl_private
    if sys.argv[1] == 'command':
        parsl_private.import_parsl_unchecked()
    import parsl.config, typeguard
    names = parsl.config.Config.__init__.__code__.co_names
    print(any(name.startswith('check_argument_types') for name in names),
          typeguard.typechecked.__module__.split('.')[0])
''')


@pytest.mark.parametrize('importer, checked', [('command', 'False'),
                                               ('user', 'True')])
def test_parsl_is_imported_without_type_checks_for_the_command_only(
        importer, checked):
    """typeguard instruments Parsl's checked functions as their modules
    load (half of Parsl's import time); imported for the `qiime` command,
    they are left as written, and typeguard's decorator is put back."""
    shown = subprocess.run([sys.executable, '-c', CHECKED, importer],
                           capture_output=True, text=True, check=True)
    assert shown.stdout.split() == [checked, 'typeguard']


def test_htex_has_the_block_attributes_the_engine_uses():
    htex = HighThroughputExecutor(label='htex', address='127.0.0.1',
                                  provider=LocalProvider())
    assert parsl_private.block_job_ids(htex) == []
    assert parsl_private.has_failed(htex) is False
    assert parsl_private.outstanding_steps(htex) == 0
    assert parsl_private.uses_default_block_error_handler(htex)
    seen = []
    parsl_private.handle_block_errors(htex, lambda e, s: seen.append(s))
    htex.block_error_handler(htex, {})
    assert seen == [{}]
    assert callable(htex.set_bad_state_and_fail_all)
    assert parsl_private.is_parsl_object(htex)
    assert parsl_private.is_parsl_object(Config())


def test_lost_worker_errors_are_recognised():
    from parsl.executors.high_throughput.errors import ManagerLost

    lost = ManagerLost(b'manager', 'host')
    assert parsl_private.is_lost_worker(lost)
    assert not parsl_private.is_lost_worker(ValueError())


def test_failing_an_executor_fails_every_step_it_has():
    """Parsl's set_bad_state_and_fail_all stops at a step that has ended
    already; the engine's replacement fails all the others too."""
    from concurrent.futures import Future

    htex = HighThroughputExecutor(label='htex', address='127.0.0.1',
                                  provider=LocalProvider())
    parsl_private.fail_every_step_when_failing(htex)
    ended, waiting = Future(), Future()
    ended.set_result(1)
    htex.tasks[0], htex.tasks[1] = ended, waiting
    parsl_private.fail_executor(htex, RuntimeError('the blocks ended'))
    assert parsl_private.has_failed(htex)
    assert ended.result() == 1
    assert 'the blocks ended' in str(waiting.exception(timeout=0))


def test_commands_to_an_interchange_that_never_answers_end():
    """A command on its way when the interchange ends waits at most the
    bound; once the interchange is known gone, commands are refused at
    once."""
    from parsl.executors.high_throughput.errors import (
        CommandClientBadError, CommandClientTimeoutError)
    from parsl.executors.high_throughput.zmq_pipes import CommandClient

    htex = HighThroughputExecutor(label='htex', address='127.0.0.1',
                                  provider=LocalProvider())
    assert parsl_private.interchange_process(htex) is None  # not started
    htex.command_client = CommandClient('127.0.0.1', (50000, 60000))
    context = zmq.Context()
    silent = context.socket(zmq.REP)  # takes commands, never answers
    silent.connect(f'tcp://127.0.0.1:{htex.command_client.port}')
    try:
        parsl_private.bound_interchange_commands(htex, 1)
        started = time.monotonic()
        with pytest.raises(CommandClientTimeoutError):
            htex.connected_blocks()
        assert time.monotonic() - started < 10
        assert silent.recv_pyobj() == 'CONNECTED_BLOCKS'  # it was sent
        parsl_private.refuse_interchange_commands(htex)
        with pytest.raises(CommandClientBadError):
            htex.connected_blocks()
    finally:
        silent.close(linger=0)
        context.term()
        htex.command_client.close()


def test_worker_pools_probe_the_interchange_reliably():
    """On a Parsl whose probe can miss the interchange (2024.10.07),
    pools use q2-parallel's probe, which finds a listening interchange
    port."""
    import zmq
    from parsl.executors.high_throughput import probe

    from q2_parallel.internals.process_worker_pool import (
        probe_addresses, probe_can_miss)

    context = zmq.Context()
    interchange = context.socket(zmq.ROUTER)
    try:
        port = interchange.bind_to_random_port('tcp://127.0.0.1')
        assert probe_addresses(['127.0.0.1'], port, timeout=30) == \
            '127.0.0.1'
    finally:
        interchange.close()
        context.term()
    source = inspect.getsource(probe.probe_addresses)
    racy = source.find('.connect(') < source.find('get_monitor_socket')
    assert probe_can_miss(probe) is racy


def test_only_local_worker_pools_fork_from_the_run():
    """Every HTEX's pools start through q2-parallel's module; only those of
    blocks on this host, and every interchange Parsl would start by its
    default command, are forked from the run's fork server."""
    from parsl.config import Config as ParslConfig
    from parsl.providers import SlurmProvider

    local = HighThroughputExecutor(label='local', address='127.0.0.1',
                                   provider=LocalProvider())
    cluster = HighThroughputExecutor(label='cluster', address='127.0.0.1',
                                     provider=SlurmProvider())
    own = HighThroughputExecutor(label='own', address='127.0.0.1',
                                 provider=LocalProvider(),
                                 interchange_launch_cmd=['my-interchange'])
    config = ParslConfig(executors=[local, cluster, own])
    assert parsl_private.local_worker_pools(config)
    assert not parsl_private.local_worker_pools(
        ParslConfig(executors=[cluster]))
    parsl_private.start_helpers_here(config, '/run/listener')
    forked = '-m q2_parallel.internals.forked_main --fork-server /run/listener'
    module = 'q2_parallel.internals.process_worker_pool'
    assert (f'{forked} {module} --fork-server /run/listener '
            in local.launch_cmd)
    assert f'-m {module} ' in cluster.launch_cmd
    assert '--fork-server' not in cluster.launch_cmd
    for executor in (local, cluster):
        assert forked in ' '.join(executor.interchange_launch_cmd)
        assert executor.interchange_launch_cmd[-1] == (
            'parsl.executors.high_throughput.interchange')
    assert own.interchange_launch_cmd == ['my-interchange']


FORKED_BY_THE_SERVER = '''
import multiprocessing, sys
import psutil
from q2_parallel.internals import multiprocessing_private
multiprocessing_private.fork_from(sys.argv[1])
forkserver = multiprocessing.get_context('forkserver')
queue = forkserver.SimpleQueue()
child = forkserver.Process(target=queue.get)
child.start()
print(psutil.Process(child.pid).ppid())
queue.put('done')
child.join(30)
print(child.exitcode)
'''


def assert_serves_another_process(server):
    """Another process, pointed at ``server``, has a child forked there,
    which runs and ends with status 0."""
    forked = subprocess.run(
        [sys.executable, '-c', FORKED_BY_THE_SERVER, server.address],
        capture_output=True, text=True, timeout=60)
    assert forked.stdout.split() == [str(server.pid), '0'], forked.stderr


def test_another_process_forks_from_the_runs_fork_server():
    """multiprocessing's forkserver client, pointed at the copy of this
    process that serves forks, has its children forked there; the copy
    forgets this process's finalizers and caches, and ends with its
    pipe."""
    import psutil

    from q2_parallel.engine._fork_server import WorkerForkServer

    server = WorkerForkServer()
    try:
        assert_serves_another_process(server)
    finally:
        server.stop()
    assert not psutil.pid_exists(server.pid)
    assert not os.path.exists(server.folder)


def test_a_client_gone_before_its_request_does_not_end_the_fork_server():
    """A client killed after it connected but before it asked (a block
    ended as it started) leaves the run's fork server serving the next."""
    import socket

    from q2_parallel.engine._fork_server import WorkerForkServer

    server = WorkerForkServer()
    try:
        with socket.socket(socket.AF_UNIX) as gone:
            gone.connect(server.address)
        assert_serves_another_process(server)
    finally:
        server.stop()


FORGETTING = '''
from qiime2 import Artifact
from qiime2.core.path import OutPath
from q2_parallel.internals import multiprocessing_private, qiime2_private
Artifact.import_data('IntList', [1, 2])  # uses the cache
temporary = OutPath(dir=True)  # removed when dropped, unless forgotten
folder = str(temporary)
multiprocessing_private.detach_finalizers()
del temporary
qiime2_private.forget_caches()
print(folder, qiime2_private.current_cache())
'''


def test_a_forked_copy_forgets_the_finalizers_and_caches_of_its_parent(
        tmp_path):
    """What the copy forgets stays for the process it was copied from: a
    dropped temporary folder of QIIME 2 is not removed; the current cache
    is none."""
    import shutil

    forgot = subprocess.run([sys.executable, '-c', FORGETTING],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, 'TMPDIR': str(tmp_path)})
    folder, cache = forgot.stdout.split()
    assert cache == 'None', forgot.stderr
    assert os.path.isdir(folder)
    shutil.rmtree(folder)
