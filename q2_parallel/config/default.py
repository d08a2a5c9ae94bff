"""The default config and the starting files `init` writes (from
`templates/`), sized for the CPUs this process may use, and the one atomic
writer for all of them.

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
    return _template('default.toml').format(cpus=usable_cpu_count(),
                                            workers=default_worker_count())


def slurm_config_text():
    """TOML of a starting config for a Slurm cluster, for this machine."""
    return _template('slurm.toml').format(hostname=socket.gethostname(),
                                          bin_dir=Path(sys.executable).parent)


def _template(name):
    """A config file template of `templates/`, with `{...}` fields."""
    return (Path(__file__).parent / 'templates' / name).read_text()


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
