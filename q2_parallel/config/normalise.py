"""The two settings q2-parallel reads differently from Parsl, in one place
for config files and for a `parsl.Config` built in Python alike:

- `strategy = None` (the spec's spelling) is Parsl's 'none'; Parsl
  deprecated its literal None.
- Parsl's run logs go under the user's cache directory
  (`default_run_dir()`), not under `runinfo` in whatever directory qiime
  runs in, unless the config says where.

A file says so by having `run_dir`: its value is made absolute when the file
is read (`file_run_dir`), so even `run_dir = "runinfo"` stays what the user
wrote. A Config built in Python cannot say so: Parsl's default is the
string 'runinfo', and a Config made with `run_dir='runinfo'` is the same
object, so `normalised` moves both to the cache directory. Python users who
want the working directory's runinfo write `run_dir='./runinfo'` or an
absolute path.
"""
import copy
import os

from .default import default_run_dir

# Parsl's Config(run_dir=...) default, relative to the working directory.
PARSL_DEFAULT_RUN_DIR = 'runinfo'


def strategy_name(strategy):
    """Parsl's name for a scaling strategy: None is 'none'."""
    return 'none' if strategy is None else strategy


def file_run_dir(run_dir):
    """The run_dir of a config file that gives `run_dir` (None or '' when
    it does not): `~` expanded and made absolute now, relative to the
    working directory, as Parsl would; the cache default when not given."""
    if not run_dir:
        return default_run_dir()
    return os.path.abspath(os.path.expanduser(run_dir))


def normalised(config):
    """A shallow copy of the parsl.Config `config` with q2-parallel's
    readings applied: strategy None -> 'none', and Parsl's default run_dir
    ('runinfo', also when written explicitly) -> `default_run_dir()`. The
    caller's Config is never changed; the copy shares its executors and
    other objects. A Config read from a file comes out as it went in."""
    copied = copy.copy(config)
    copied.strategy = strategy_name(config.strategy)
    if config.run_dir == PARSL_DEFAULT_RUN_DIR:
        copied.run_dir = default_run_dir()
    return copied
