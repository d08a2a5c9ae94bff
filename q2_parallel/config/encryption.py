"""Nobody else joins a run: every HighThroughputExecutor built from a config
file authenticates and encrypts its workers' connections (Parsl's CurveZMQ,
``encrypted = true``: keys made for each run, in its private run folder),
unless the file says ``encrypted = false``, which is accepted with a warning.

Parsl 2026 encrypts by default; Parsl 2024.10.07, the newest for Python 3.8,
does not, so the default is written here rather than left to Parsl.  A
``parsl.Config`` built in Python is used as given
(``warn_about_python_config`` lets ``ParallelConfig`` say so).
"""
import functools
import inspect
import weakref

from .errors import say_once

_KEY = 'encrypted'
EXPOSURE = ('anyone who can reach its ports (every account on this machine,'
            ' and every host that can reach its address) can take its steps'
            "' data or send back results that run code as you")


@functools.lru_cache(maxsize=None)
def can_encrypt():
    """Whether the installed Parsl's HighThroughputExecutor takes
    ``encrypted`` and its ZeroMQ has CurveZMQ."""
    import zmq
    from parsl.executors import HighThroughputExecutor

    return (_KEY in inspect.signature(HighThroughputExecutor).parameters
            and bool(zmq.has('curve')))


def is_htex(cls):
    from parsl.executors import HighThroughputExecutor

    return isinstance(cls, type) and issubclass(cls, HighThroughputExecutor)


def apply_encryption_rule(cls, kwargs):
    """Encrypt an HTEX whose table does not say ``encrypted``."""
    if is_htex(cls) and _KEY not in kwargs and can_encrypt():
        kwargs[_KEY] = True


def warn_about_unencrypted(plan, source):
    """Say once per file and executor that an HTEX of the file at
    ``source`` is not encrypted, and once if Parsl cannot encrypt."""
    if plan is None:
        return
    for index, executor in enumerate(plan.executors):
        if not is_htex(executor.cls):
            continue
        if not can_encrypt():
            say_once('q2-parallel: warning: the installed Parsl or ZeroMQ'
                     ' cannot encrypt HighThroughputExecutor connections;'
                     f' {EXPOSURE}. Install a pyzmq with CurveZMQ.')
        elif executor.kwargs.get(_KEY) is False:
            say_once(f'q2-parallel: warning: {source}:'
                     f' parsl.executors[{index}].encrypted = false leaves'
                     f' the executor {executor.kwargs.get("label")!r}'
                     f' unencrypted: {EXPOSURE}.')


# Configs built from files: their file was warned about already.
_built_from_files = weakref.WeakSet()


def built_from_file(config):
    """Note that ``config`` was built from a file (and warned about)."""
    _built_from_files.add(config)
    return config


def warn_about_python_config(config, labels):
    """Say once when an HTEX labelled in ``labels`` of a ``parsl.Config``
    built in Python is not encrypted (the object is used as given)."""
    if config in _built_from_files:
        return
    for executor in config.executors:
        if (executor.label in labels and is_htex(type(executor))
                and not getattr(executor, _KEY, False)):
            say_once('q2-parallel: warning: the HighThroughputExecutor'
                     f' {executor.label!r} of this parsl.Config is not'
                     f' encrypted: {EXPOSURE}. Give it encrypted=True.')


def describe(executor_plan):
    """'encrypted, ports on 127.0.0.1' for an HTEX plan; None for others."""
    if not is_htex(executor_plan.cls):
        return None
    kwargs = executor_plan.kwargs
    state = 'encrypted' if kwargs.get(_KEY) else 'NOT encrypted'
    address = kwargs.get('address')
    where = ('every interface' if address in ('*', '0.0.0.0', '::')
             else address)
    return f'{state}, worker ports listen on {where}'
