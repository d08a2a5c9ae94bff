"""Nobody else joins a run: HighThroughputExecutors built from config files
are encrypted, their ports listen on loopback for local workers, and a
run's keys and logs are in a folder only its owner can read."""
import ipaddress
import os
import pickle
import stat
import subprocess
import sys

import psutil
import pytest
import zmq
from parsl.config import Config
from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
from parsl.providers import LocalProvider
from qiime2.plugins import paralleltest

from q2_parallel import ParallelConfig, get_config_from_file
from tests.engine_support import int_list
from tests.helpers import REPO, isolated_env, parallel_config_toml

pytestmark = pytest.mark.slow  # real HTEX workers


@pytest.fixture
def config_file(tmp_path):
    """A local config file that says nothing about encryption, its logs in
    a folder the user named (made world-readable, as folders often are)."""
    run_dir = tmp_path / 'runs'
    run_dir.mkdir(mode=0o755)
    path = tmp_path / 'config.toml'
    path.write_text(parallel_config_toml(htex='htex', mapping={
        'square': 'htex'}).replace('[parsl]\n',
                                   f'[parsl]\nrun_dir = "{run_dir}"\n'))
    return path


def listening_sockets():
    """(address, port) of every TCP socket this process's children listen
    on: the HTEX interchange's."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            connections = child.net_connections(kind='tcp')
        except AttributeError:  # psutil before 6
            connections = child.connections(kind='tcp')
        except psutil.Error:
            continue
        found += [c.laddr for c in connections
                  if c.status == psutil.CONN_LISTEN]
    return found


def ipv4(ip):
    """``ip`` as IPv4 where it is an IPv4 address mapped into IPv6 (Parsl
    2026 binds IPv6 sockets to ``::ffff:127.0.0.1``)."""
    address = ipaddress.ip_address(ip)
    return str(getattr(address, 'ipv4_mapped', None) or address)


def intrude(ports, seconds=3):
    """Connect to each port without the run's keys, ask for work and offer
    a forged result; return what came back (nothing, if the run is safe)."""
    context = zmq.Context()
    received = []
    forged = [b'{"type": "registration", "worker_count": 1}',
              pickle.dumps({'type': 'result', 'task_id': 0,
                            'result': 'forged'})]
    try:
        sockets = []
        for port in ports:
            socket = context.socket(zmq.DEALER)
            sockets.append(socket)
            socket.setsockopt(zmq.LINGER, 0)
            socket.connect(f'tcp://127.0.0.1:{port}')
            for message in forged:
                try:
                    socket.send_multipart([message], zmq.NOBLOCK)
                except zmq.Again:  # no connection to queue it on
                    pass
        poller = zmq.Poller()
        for socket in sockets:
            poller.register(socket, zmq.POLLIN)
        for socket, _ in poller.poll(timeout=seconds * 1000):
            received.append(socket.recv_multipart())
    finally:
        context.destroy(linger=0)  # closes every socket, even after an error
    return received


def test_a_file_run_is_encrypted_private_and_on_loopback(config_file):
    config, mapping = get_config_from_file(config_file)
    ints = int_list(range(10))
    with ParallelConfig(config, mapping) as parallel_config:
        future = paralleltest.pipelines.square_all.parallel(
            ints, partitions=2, delay=4)
        run_folder = os.path.dirname(parallel_config.run_dir)
        sockets = listening_sockets()
        assert sockets, 'the interchange listens for workers'
        assert {ipv4(address.ip) for address in sockets} == {'127.0.0.1'}
        assert intrude([address.port for address in sockets]) == []
        result = future._result()
        assert stat.S_IMODE(os.stat(run_folder).st_mode) == 0o700
        keys = [os.path.join(folder, name)
                for folder, _, names in os.walk(run_folder)
                for name in names if name.endswith(('.key', '.key_secret'))]
        assert keys, "the run's CurveZMQ keys are in its private folder"
    assert result.squared.view(list) == [n * n for n in range(10)]
    runs = config_file.parent / 'runs'
    assert stat.S_IMODE(os.stat(runs).st_mode) == 0o755  # left as it was
    assert not os.path.exists(run_folder)  # a run that succeeded


def test_parsl_config_from_python_is_used_as_given_with_a_warning(tmp_path):
    script = f'''
from parsl.config import Config
from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
from parsl.providers import LocalProvider
from qiime2 import Artifact
from qiime2.plugins import paralleltest
from q2_parallel import ParallelConfig
htex = HighThroughputExecutor(label='htex', address='127.0.0.1',
                              encrypted=False, max_workers_per_node=1,
                              provider=LocalProvider())
config = Config(executors=[ThreadPoolExecutor(label='default'), htex],
                strategy='none', run_dir={str(tmp_path / 'runs')!r})
ints = Artifact.import_data('IntList', [1, 2])
for _ in range(2):
    with ParallelConfig(config, {{'square': 'htex'}}):
        paralleltest.methods.square.parallel(ints)._result()
assert htex.encrypted is False
print('done')
'''
    result = subprocess.run([sys.executable, '-c', script], cwd=REPO,
                            capture_output=True, text=True, timeout=300,
                            env=isolated_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'done'
    warnings = [line for line in result.stderr.splitlines()
                if line.startswith('q2-parallel: warning:')]
    assert warnings == [
        "q2-parallel: warning: the HighThroughputExecutor 'htex' of this"
        ' parsl.Config is not encrypted: anyone who can reach its ports'
        ' (every account on this machine, and every host that can reach its'
        " address) can take its steps' data or send back results that run"
        ' code as you. Give it encrypted=True.']


def test_encrypted_python_config_says_nothing(tmp_path, capfd):
    htex = HighThroughputExecutor(label='htex', address='127.0.0.1',
                                  encrypted=True, max_workers_per_node=1,
                                  provider=LocalProvider())
    config = Config(executors=[ThreadPoolExecutor(label='default'), htex],
                    strategy='none', run_dir=str(tmp_path / 'runs'))
    with ParallelConfig(config, {'square': 'htex'}):
        paralleltest.methods.square.parallel(int_list([3]))._result()
    assert 'q2-parallel: warning' not in capfd.readouterr().err
