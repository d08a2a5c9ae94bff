"""Pipelines whose steps run in the jobs of a real Slurm cluster.

The cluster (tests/slurm_cluster.py) is this machine alone, on loopback;
the config is examples/slurm-config.toml with this cluster's values filled
in, so the example an admin starts from is the one that runs here.
Every run ends with no job in the queue and no process of it left.
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest
import tomlkit
from parsl.executors.high_throughput.errors import ManagerLost
from qiime2 import Artifact, Cache
from qiime2.plugins import paralleltest

from q2_parallel import ParallelConfig, get_config_from_file
from tests.engine_support import int_list, provenance_actions, step_notes
from tests.helpers import QIIME, REPO, isolated_env
from tests.slurm_cluster import (PARTITION, SlurmCluster, missing_programs,
                                 wait_until)
from tests.test_report import (assert_consistent, assert_drawn,
                               needs_browser, report_facts)

pytestmark = [
    pytest.mark.slow,  # a real Slurm cluster
    pytest.mark.skipif(
        bool(missing_programs()),
        reason='Slurm is not installed (missing: '
        f'{", ".join(missing_programs())}); scripts/install-slurm.sh '
        'installs it'),
    pytest.mark.skipif(os.geteuid() != 0,
                       reason='the test cluster\'s slurmd must run as root'),
]

EXAMPLE = REPO / 'examples' / 'slurm-config.toml'
SLURM_LABEL = 'slurm'
WORKERS = 2
# How long the queue and the processes may take to go once a run has ended,
# and how long a run may take to fail once its job is cancelled.
SETTLE_SECONDS = 15
FAIL_SECONDS = 30
# Set in the environment of each run: inherited by the HTEX interchange and,
# through sbatch, by everything in the run's Slurm jobs.
RUN_MARKER = 'Q2P_SLURM_TEST_RUN'


@pytest.fixture(scope='session')
def cluster():
    with SlurmCluster() as started:
        yield started


@pytest.fixture
def run_env(cluster, monkeypatch):
    """This process's environment pointed at the cluster and marked, so
    what the run starts can be found afterwards."""
    marker = uuid.uuid4().hex
    monkeypatch.setenv('SLURM_CONF', str(cluster.conf))
    monkeypatch.setenv(RUN_MARKER, marker)
    return marker


def write_config(tmp_path):
    """The example config for this cluster: its partition, loopback, this
    venv's programs on the workers' PATH, quick polling and `square` mapped
    to the Slurm executor; Parsl's logs in ``tmp_path/runinfo``."""
    doc = tomlkit.parse(EXAMPLE.read_text())
    settings = doc['parsl']
    settings['strategy_period'] = 0.5
    settings['run_dir'] = str(tmp_path / 'runinfo')
    htex, = [e for e in settings['executors'] if e['label'] == SLURM_LABEL]
    htex['address'] = '127.0.0.1'
    htex['max_workers_per_node'] = WORKERS
    htex['heartbeat_period'] = 1
    htex['heartbeat_threshold'] = 5
    provider = htex['provider']
    provider['partition'] = PARTITION
    provider['walltime'] = '00:10:00'
    bin_dir = Path(sys.executable).parent
    provider['worker_init'] = f'export PATH={bin_dir}:$PATH'
    settings['executor_mapping']['square'] = SLURM_LABEL
    path = tmp_path / 'slurm.toml'
    path.write_text(tomlkit.dumps(doc))
    return path


def run_processes(marker):
    """Processes started for the run marked ``marker`` (not this one)."""
    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.environ().get(RUN_MARKER) == marker:
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def assert_nothing_left(cluster, marker):
    assert wait_until(lambda: not cluster.squeue(), SETTLE_SECONDS), \
        f'jobs still queued: {cluster.squeue()}'
    assert wait_until(lambda: not run_processes(marker)
                      and not cluster.job_processes(), SETTLE_SECONDS), \
        'processes left: ' + ', '.join(
            ' '.join(p.cmdline()[:3]) for p in
            run_processes(marker) + cluster.job_processes())
    # Parsl 2024.10's launchers write cmd_<job>.sh where jobs are submitted
    left = glob.glob(os.path.join(os.getcwd(), 'cmd_parsl.*.sh'))
    assert left == [], f'launcher scripts left: {left}'


def busy_workers(run_dir):
    """Worker processes that have taken a step, from HTEX's worker logs."""
    busy = 0
    for log in glob.glob(f'{run_dir}/**/worker_*.log', recursive=True):
        with open(log) as fh:
            busy += 'Received executor task' in fh.read()
    return busy


def test_srun_runs_on_the_node(cluster):
    result = cluster.run('srun', 'hostname')
    assert result.stdout.strip() == socket.gethostname()


def test_python_api_runs_mapped_steps_in_slurm_jobs(cluster, run_env,
                                                    tmp_path):
    """With the cache the README says to put on shared storage."""
    ints = int_list(range(30))
    record_dir = tmp_path / 'notes'
    record_dir.mkdir()
    serial = paralleltest.pipelines.square_all(ints, partitions=4,
                                               record_dir=str(record_dir))
    for note in record_dir.iterdir():  # the serial run's
        note.unlink()

    with Cache(str(tmp_path / 'shared-cache')):
        with ParallelConfig(*get_config_from_file(write_config(tmp_path))):
            result = paralleltest.pipelines.square_all.parallel(
                ints, partitions=4, record_dir=str(record_dir))._result()

    assert result.squared.view(list) == serial.squared.view(list)
    assert provenance_actions(result.squared) == \
        provenance_actions(serial.squared)
    notes = step_notes(record_dir)
    assert len(notes) == 4
    assert all(note['slurm_job_id'] for note in notes), notes
    assert all(note['pid'] != os.getpid() for note in notes)
    assert_nothing_left(cluster, run_env)


def cancel_jobs_once_steps_run(cluster, run_dir, ended):
    """scancel the run's jobs as soon as every worker is in a step; False
    if ``ended()`` first."""
    started = wait_until(
        lambda: busy_workers(run_dir) == WORKERS or ended(), timeout=60)
    assert started, 'the steps never started'
    if ended():
        return False
    cluster.run('scancel', *cluster.squeue())
    return True


@needs_browser
def test_report_shows_each_slurm_job_and_its_workers(cluster, run_env,
                                                     tmp_path):
    page = tmp_path / 'slurm.html'
    with Cache(str(tmp_path / 'shared-cache')):
        config, mapping = get_config_from_file(write_config(tmp_path))
        with ParallelConfig(config, mapping, report=page):
            paralleltest.pipelines.square_all.parallel(
                int_list(range(30)), partitions=4)._result()
    facts = report_facts(page)
    assert_consistent(facts)
    lanes = {lane['id']: lane for lane in facts['lanes']}
    in_jobs = [step for step in facts['steps']
               if step['executor'] == SLURM_LABEL]
    assert len(in_jobs) == 4
    for step in in_jobs:
        lane = lanes[step['lane']]
        assert lane['kind'] == 'worker' and lane['job'], lane
        assert lane['title'].startswith(f'{SLURM_LABEL}: job {lane["job"]},')
    assert_drawn(page, facts, tmp_path)
    assert_nothing_left(cluster, run_env)


def test_cancelled_job_fails_python_api_run_naming_the_step(
        cluster, run_env, tmp_path):
    """scancel while both workers are in a step: the steps are lost and
    the run fails, saying which step; nothing is left."""
    config = get_config_from_file(write_config(tmp_path))
    with pytest.raises(ManagerLost) as caught:
        with ParallelConfig(*config):
            future = paralleltest.pipelines.square_all.parallel(
                int_list(range(10)), partitions=WORKERS, delay=60,
                record_dir=str(tmp_path))
            assert cancel_jobs_once_steps_run(
                cluster, tmp_path / 'runinfo', future.done)
            future._result()

    assert 'step paralleltest:square' in ' '.join(caught.value.__notes__)
    assert step_notes(tmp_path) == []
    assert_nothing_left(cluster, run_env)


def qiime_square_all(tmp_path, marker, cluster, *options):
    """Start `qiime paralleltest square-all --parallel-config` on 30
    integers; the output goes to tmp_path/out/squared.qza."""
    inputs = tmp_path / 'ints.qza'
    if not inputs.exists():  # the same inputs for a rerun
        int_list(range(30)).save(str(inputs))
    (tmp_path / 'out').mkdir()
    (tmp_path / 'notes').mkdir()
    env = isolated_env(tmp_path / 'home', SLURM_CONF=cluster.conf,
                       **{RUN_MARKER: marker})
    return subprocess.Popen(
        [str(QIIME), 'paralleltest', 'square-all', '--i-ints', str(inputs),
         '--p-record-dir', str(tmp_path / 'notes'),
         '--o-squared', str(tmp_path / 'out' / 'squared.qza'),
         '--parallel-config', str(write_config(tmp_path)), *options],
        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)


def test_qiime_parallel_config_runs_mapped_steps_in_slurm_jobs(cluster,
                                                               tmp_path):
    marker = uuid.uuid4().hex
    run = qiime_square_all(tmp_path, marker, cluster, '--p-partitions', '4')
    out, err = run.communicate(timeout=120)

    assert run.returncode == 0, err
    assert 'Saved IntList to' in out
    squared = Artifact.load(str(tmp_path / 'out' / 'squared.qza'))
    assert squared.view(list) == sorted(n * n for n in range(30))
    notes = step_notes(tmp_path / 'notes')
    assert len(notes) == 4
    assert all(note['slurm_job_id'] for note in notes), notes
    assert_nothing_left(cluster, marker)


def test_a_rerun_takes_the_steps_slurm_jobs_finished_from_the_pool(
        cluster, tmp_path):
    """`--use-cache` on storage the node shares: the second run finds every
    step the jobs of the first one kept, and runs none of them again."""
    marker = uuid.uuid4().hex
    options = ('--p-partitions', '4', '--use-cache', str(tmp_path / 'cache'),
               '--recycle-pool', 'on_slurm')
    first = qiime_square_all(tmp_path, marker, cluster, *options)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert len(step_notes(tmp_path / 'notes')) == 4
    shutil.rmtree(tmp_path / 'notes')
    shutil.rmtree(tmp_path / 'out')
    again = qiime_square_all(tmp_path, marker, cluster, *options)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert step_notes(tmp_path / 'notes') == []  # no square ran again
    # the 4 splits, the 4 squares in jobs and the merge
    assert '9 steps taken from the recycle pool on_slurm' in err, err
    squared = Artifact.load(str(tmp_path / 'out' / 'squared.qza'))
    assert squared.view(list) == sorted(n * n for n in range(30))
    assert_nothing_left(cluster, marker)


def test_cancelled_job_fails_qiime_run_naming_the_step(cluster, tmp_path):
    """The same through `qiime`: an error naming the step, no output."""
    marker = uuid.uuid4().hex
    run = qiime_square_all(tmp_path, marker, cluster,
                           '--p-partitions', str(WORKERS), '--p-delay', '60')
    try:
        assert cancel_jobs_once_steps_run(
            cluster, tmp_path / 'runinfo', lambda: run.poll() is not None), \
            run.communicate()
        out, err = run.communicate(timeout=FAIL_SECONDS)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()

    assert run.returncode == 1, (out, err)
    assert 'The step paralleltest square of this pipeline failed' in err, err
    assert os.listdir(tmp_path / 'out') == []
    assert step_notes(tmp_path / 'notes') == []
    assert_nothing_left(cluster, marker)


def test_steps_queued_behind_a_cancelled_job_fail_instead_of_hanging(
        cluster, run_env, tmp_path):
    """More steps than workers: after scancel, the steps that were waiting
    for a worker fail too (Parsl counts a cancelled job as completed and,
    with strategy "none", starts no other), once Parsl's Slurm provider
    next looks at the queue (every 60 s)."""
    config = get_config_from_file(write_config(tmp_path))
    with pytest.raises(Exception) as caught:
        with ParallelConfig(*config):
            future = paralleltest.pipelines.square_all.parallel(
                int_list(range(10)), partitions=2 * WORKERS, delay=60,
                record_dir=str(tmp_path))
            assert cancel_jobs_once_steps_run(
                cluster, tmp_path / 'runinfo', future.done)
            future._result()

    assert caught.value.parallel_step == 'paralleltest:square'
    assert step_notes(tmp_path) == []
    assert_nothing_left(cluster, run_env)
