"""A real single-node Slurm cluster on loopback, for the tests.

Everything lives in one temporary directory (munge key and socket, Slurm's
config, state, spool, logs and pid files); clients find the cluster through
``SLURM_CONF``. The daemons fork, so their PIDs come from their pid files,
and stopping is by those PIDs only: SIGTERM, SIGKILL after a grace period,
then the directory is removed. Debian's ``slurm-wlm`` and ``munge`` must be
installed (``scripts/install-slurm.sh``); no systemd or cgroups are needed.

    with SlurmCluster() as cluster:
        subprocess.run(['srun', 'hostname'], env=cluster.env())

``python -m tests.slurm_cluster`` runs one in the foreground until Ctrl-C.
"""
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

SBIN_DIRS = ('/usr/sbin', '/sbin')
DAEMONS = ('munged', 'slurmctld', 'slurmd')
PARTITION = 'debug'


class ClusterError(Exception):
    """The test cluster could not be started."""


def find_program(name):
    """``name`` on PATH or in the sbin directories; None when absent."""
    path = os.pathsep.join([os.environ.get('PATH', ''), *SBIN_DIRS])
    return shutil.which(name, path=path)


def missing_programs():
    """Slurm and munge programs the cluster needs that are not installed."""
    return [name for name in (*DAEMONS, 'srun', 'sinfo', 'squeue', 'scancel')
            if find_program(name) is None]


def free_port():
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout):
    """True once ``condition()`` holds, False if ``timeout`` s pass first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def slurm_version():
    """(major, minor) of the installed slurmd, e.g. (22, 5)."""
    out = subprocess.run([find_program('slurmd'), '-V'], text=True,
                         capture_output=True, check=True).stdout
    major, minor = re.search(r'(\d+)\.(\d+)', out).groups()
    return int(major), int(minor)


class SlurmCluster:
    """Munge, slurmctld and one slurmd (this machine, ``127.0.0.1``).

    Parameters
    ----------
    start_timeout : float
        Seconds to wait for the node to accept jobs.
    grace : float
        Seconds between SIGTERM and SIGKILL when stopping a daemon.
    """

    def __init__(self, start_timeout=60.0, grace=5.0):
        self.start_timeout = start_timeout
        self.grace = grace
        self.root = None
        self.node = socket.gethostname().split('.')[0]

    def __repr__(self):
        return (f'SlurmCluster(start_timeout={self.start_timeout!r}, '
                f'grace={self.grace!r})')

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def conf(self):
        return self.root / 'slurm.conf'

    def env(self):
        """This environment, with Slurm's commands talking to the cluster."""
        return {**os.environ, 'SLURM_CONF': str(self.conf)}

    def start(self):
        """Write the configuration and start the daemons; return once the
        node accepts jobs. On failure everything started is stopped."""
        missing = missing_programs()
        if missing:
            raise ClusterError(
                f'Slurm is not installed ({", ".join(missing)} not found). '
                'Run scripts/install-slurm.sh (Debian: apt-get install '
                'slurm-wlm munge slurm-client).')
        self.root = Path(tempfile.mkdtemp(prefix='q2p-slurm-'))
        try:
            self._write_files()
            self._start_daemon('munged', [
                f'--key-file={self.root / "munge-key" / "munge.key"}',
                f'--socket={self._munge_socket}',
                f'--pid-file={self._pid_file("munged")}',
                f'--log-file={self.root / "log" / "munged.log"}',
                f'--seed-file={self.root / "munge-key" / "munged.seed"}'],
                ready=self._munge_socket.exists)
            for daemon in ('slurmctld', 'slurmd'):
                self._start_daemon(daemon, ['-f', str(self.conf)])
            self._wait_for(self._node_ready, 'the node to accept jobs',
                           'slurmd')
        except BaseException:
            self.stop()
            raise

    def stop(self):
        """Stop the daemons and the job steps they left, remove the
        directory. Safe to call twice and after a failed start."""
        if self.root is None:
            return
        if self.pid('slurmctld') is not None:  # slurmstepd ignores SIGTERM
            self.run('scancel', '--full', f'--partition={PARTITION}',
                     check=False)
            wait_until(lambda: not self.job_processes(), self.grace)
        _terminate([*self._daemon_processes(), *self.job_processes()],
                   self.grace)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def pid(self, daemon):
        """The PID a daemon wrote to its pid file; None before that."""
        try:
            return int(self._pid_file(daemon).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _daemon_processes(self):
        """The running daemons, by pid file. A pid file left by a dead
        daemon may name another process by now: check the name too."""
        processes = []
        for daemon in DAEMONS:
            pid = self.pid(daemon)
            if pid is None:
                continue
            with contextlib.suppress(psutil.NoSuchProcess):
                process = psutil.Process(pid)
                if process.name() == daemon:
                    processes.append(process)
        return processes

    def squeue(self):
        """Job ids still in the queue (any state)."""
        out = self.run('squeue', '--noheader', '--format=%i').stdout
        return out.split()

    def run(self, program, *args, timeout=60, check=True, **kwargs):
        """Run a Slurm command against this cluster."""
        return subprocess.run([find_program(program), *args], text=True,
                              capture_output=True, env=self.env(),
                              timeout=timeout, check=check, **kwargs)

    def job_processes(self):
        """Processes of this cluster's jobs: slurmstepd (its working
        directory is slurmd's, inside the cluster's folder) and whatever runs
        in a job (it has a job id, and ``SLURM_CONF`` from the submitter)."""
        found = []
        daemons = {self.pid(daemon) for daemon in DAEMONS}
        for process in psutil.process_iter(['pid', 'name']):
            if process.pid in daemons:
                continue
            try:
                if process.info['name'] == 'slurmstepd':
                    mine = Path(process.cwd()).is_relative_to(self.root)
                else:
                    environ = process.environ()
                    mine = ('SLURM_JOB_ID' in environ and
                            environ.get('SLURM_CONF') == str(self.conf))
            except (psutil.Error, OSError):
                continue
            if mine:
                found.append(process)
        return found

    # -- starting -----------------------------------------------------------

    @property
    def _munge_socket(self):
        return self.root / 'munge-run' / 'munge.socket'

    def _pid_file(self, daemon):
        return self.root / 'run' / f'{daemon}.pid'

    def _write_files(self):
        # munged wants its key private and its socket's folders open to all
        self.root.chmod(0o755)
        for name, mode in (('munge-key', 0o700), ('munge-run', 0o755),
                           ('state', 0o755), ('spool', 0o755),
                           ('log', 0o755), ('run', 0o755)):
            (self.root / name).mkdir(mode=mode)
            os.chmod(self.root / name, mode)
        key = self.root / 'munge-key' / 'munge.key'
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        self.conf.write_text(self._slurm_conf())
        if slurm_version() >= (23, 2):
            # newer slurmd sets up cgroups even with proctrack/linuxproc
            (self.root / 'cgroup.conf').write_text('CgroupPlugin=disabled\n')

    def _slurm_conf(self):
        user = psutil.Process().username()
        memory_mb = psutil.virtual_memory().total // 2**20
        return f'''\
# A one-node test cluster: slurmctld and slurmd on loopback, no cgroups.
# Settings whose default is none (accounting, MPI, switch) are left out:
# some of their `none` plugins are gone from newer Slurm.
ClusterName=q2ptest
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
AuthInfo=socket={self._munge_socket}
StateSaveLocation={self.root / "state"}
SlurmdSpoolDir={self.root / "spool"}
SlurmctldPidFile={self._pid_file("slurmctld")}
SlurmdPidFile={self._pid_file("slurmd")}
SlurmctldLogFile={self.root / "log" / "slurmctld.log"}
SlurmdLogFile={self.root / "log" / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerType=sched/backfill
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} \
RealMemory={max(memory_mb - 512, 256)} State=UNKNOWN
PartitionName={PARTITION} Nodes={self.node} Default=YES \
MaxTime=INFINITE State=UP
'''

    def _start_daemon(self, daemon, args, ready=None):
        """Start a forking daemon; wait for its pid file (and ``ready``)."""
        result = subprocess.run([find_program(daemon), *args], text=True,
                                capture_output=True, env=self.env(),
                                timeout=30)
        if result.returncode != 0:
            raise ClusterError(
                f'{daemon} did not start (exit {result.returncode}): '
                f'{result.stderr.strip()} {self._log_tail(daemon)}')
        self._wait_for(lambda: self.pid(daemon) is not None
                       and (ready is None or ready()),
                       f'{daemon} to write its pid file', daemon)

    def _node_ready(self):
        states = self.run('sinfo', '--noheader', '--format=%t',
                          check=False).stdout.split()
        return bool(states) and all(s in ('idle', 'mix', 'alloc')
                                    for s in states)

    def _wait_for(self, condition, what, daemon):
        if not wait_until(condition, self.start_timeout):
            raise ClusterError(
                f'Gave up after {self.start_timeout:.0f} s waiting for '
                f'{what}. {self._log_tail(daemon)}')

    def _log_tail(self, daemon, lines=5):
        log = self.root / 'log' / f'{daemon}.log'
        try:
            tail = log.read_text().splitlines()[-lines:]
        except OSError:
            return f'(no log at {log})'
        return f'Last lines of {log}: ' + ' | '.join(tail)


def _terminate(processes, grace):
    """SIGTERM all ``processes`` at once, SIGKILL those left after
    ``grace`` seconds (slurmctld alone takes about 5 s to stop once slurmd
    is gone; together they stop in about 2 s)."""
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=grace)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(alive, timeout=grace)


def main():
    with SlurmCluster() as cluster:
        print(f'export SLURM_CONF={cluster.conf}   # Ctrl-C stops it',
              flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == '__main__':
    main()
