"""The default config and the starting files `init` writes, sized for the
CPUs this process may use, and the one atomic writer for all of them.

The conda recipe's post-link step calls `write_default_config` too, so the
file it writes is the one `--parallel` would have written.
"""
import os
import socket
import sys
import tempfile
from pathlib import Path

import appdirs

from .errors import ConfigError

_DEFAULT_TEMPLATE = '''\
# QIIME 2 parallel configuration: the default of q2-parallel.
# Used by `qiime ... --parallel` and by ParallelConfig() when no other file
# is found (lookup: $QIIME2_CONFIG, <user config dir>/qiime2/, <site config
# dir>/qiime2/, $CONDA_PREFIX/etc/). The worker counts below were computed
# when this file was written: one less than the {cpus} CPU(s) this process
# could use. Check a changed file with:
#   python -m q2_parallel.config validate <this file>

[parsl]
# Start all workers up front and never scale: right for a single machine.
strategy = "None"
# Parsl's logs go to numbered folders under run_dir: by default in each
# user's cache directory (on Linux ~/.cache/qiime2/parallel/runinfo), not in
# the directory qiime runs in.
# run_dir = "/path/to/runinfo"

# Every action that the mapping below does not name runs here: threads
# inside the qiime process (cheap to start, share one Python interpreter).
[[parsl.executors]]
class = "ThreadPoolExecutor"
label = "default"
max_threads = {workers}

# Separate worker processes on this machine, for actions mapped to "htex".
[[parsl.executors]]
class = "HighThroughputExecutor"
label = "htex"
max_workers_per_node = {workers}
# The workers run on this machine: talk over the loopback interface only.
address = "127.0.0.1"
# Check on the workers every 2 s (Parsl's default is 30 s), so a worker that
# dies mid-step fails the run within seconds.
heartbeat_period = 2

[parsl.executors.provider]
class = "LocalProvider"

# Which executor an action runs on; unmapped actions run on "default".
# Flat form:        some_action = "htex"
# Per plugin:       [parsl.executor_mapping.feature-table]
#                   summarize = "htex"
[parsl.executor_mapping]
# some_action = "htex"
'''

_SLURM_TEMPLATE = '''\
# QIIME 2 parallel configuration for a Slurm cluster: a starting point.
# Run qiime on a machine that can submit jobs (sbatch), usually the login
# node; each step then runs in Slurm jobs that Parsl submits. Edit the
# marked values, then check the file with:
#   python -m q2_parallel.config validate <this file>

[parsl]
# Keep the jobs of init_blocks for the whole run; "simple" scales between
# min_blocks and max_blocks instead.
strategy = "None"

[[parsl.executors]]
class = "HighThroughputExecutor"
label = "default"
# EDIT: this machine's name or IP address as the compute nodes reach it
# (written: the name of the machine `init` ran on).
address = "{hostname}"
# Worker processes per node; leave out to use every core Slurm gives.
# max_workers_per_node = 8

[parsl.executors.provider]
class = "SlurmProvider"
# EDIT: your partition and account (`sinfo` lists partitions).
# partition = "short"
# account = "my-lab"
nodes_per_block = 1
init_blocks = 1
max_blocks = 1
walltime = "01:00:00"
# Commands each job runs before starting workers: this environment's
# programs must be found on the compute nodes.
worker_init = "export PATH={bin_dir}:$PATH"

[parsl.executors.provider.launcher]
class = "SrunLauncher"

# Which executor an action runs on; unmapped actions run on "default".
[parsl.executor_mapping]
# some_action = "default"
'''


def usable_cpu_count():
    """CPUs this process may use: the Slurm allocation inside one, else the
    CPU affinity, else the machine's count; 1 when nothing says."""
    slurm = os.environ.get('SLURM_CPUS_ON_NODE', '')
    if slurm.isdigit() and int(slurm) > 0:
        return int(slurm)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        import psutil
        return psutil.cpu_count() or 1


def default_worker_count():
    """Threads/workers of the default config: one CPU left for QIIME 2."""
    return max(usable_cpu_count() - 1, 1)


def default_run_dir():
    """Where Parsl's run logs go when a config does not say: the user's
    cache directory, so runs neither litter nor depend on the cwd."""
    return os.path.join(appdirs.user_cache_dir('qiime2'), 'parallel',
                        'runinfo')


def default_config_text():
    """TOML of the default config, with the CPU count evaluated now."""
    return _DEFAULT_TEMPLATE.format(cpus=usable_cpu_count(),
                                    workers=default_worker_count())


def slurm_config_text():
    """TOML of a starting config for a Slurm cluster, for this machine."""
    return _SLURM_TEMPLATE.format(hostname=socket.gethostname(),
                                  bin_dir=Path(sys.executable).parent)


def write_new_file(path, text):
    """Write `text` to `path` atomically, never over an existing file.

    The text goes to a temporary file in the same directory which is then
    hard-linked into place: readers never see half a file, and when two
    processes race, the first wins and the second gets FileExistsError.
    """
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.',
                                     suffix='.tmp')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # shared environments: all may read it
        os.link(temporary, path)
    finally:
        os.unlink(temporary)


def write_default_config(path):
    """Write the default config to `path` unless a file is already there.

    True if written, False if `path` already existed; ConfigError when it
    cannot be written (missing directory, no permission, ...).
    """
    try:
        write_new_file(path, default_config_text())
    except FileExistsError:
        return False
    except OSError as err:
        raise ConfigError(
            f'The default parallel config could not be written to {path}:'
            f' {err.strerror or err}. Write it somewhere you may write'
            ' (python -m q2_parallel.config init PATH) and point'
            ' $QIIME2_CONFIG at it.') from err
    return True
