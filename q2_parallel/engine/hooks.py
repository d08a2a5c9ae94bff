"""How q2-parallel plugs its engine into the QIIME 2 2022.11 framework.

Installed when QIIME 2 loads this plugin (end of ``plugin_setup``), so every
action of every plugin has ``.parallel`` once any ``qiime2.plugins`` import
has happened.  The framework internals it relies on are in
``q2_parallel.internals.qiime2_private``:

- ``.parallel`` is a descriptor on the framework's ``Action`` class, whose
  wrapper has the action's signature, as ``__call__`` has;
- the cache's lock is made re-entrant per thread (steps on a thread pool
  share the cache) and quick to retry;
- ``qiime2.sdk.parallel_config`` (2023.5 and later) is provided, so code
  written for later releases runs unchanged.

Nothing is installed on another framework release: QIIME 2 2023.5 and
later have their own ``.parallel`` and ``parallel_config``.
"""
from q2_parallel.internals import qiime2_private

_installed = False


class _ParallelAttribute:
    """``action.parallel(...)``: start the action in the active
    ``ParallelConfig`` block and return its results' stand-ins at once."""

    def __get__(self, action, owner=None):
        if action is None:
            return self
        wrapper = action.__dict__.get('_q2p_parallel')
        if wrapper is None:
            wrapper = action.__dict__['_q2p_parallel'] = _wrap(action)
        return wrapper


def _wrap(action):
    from .parallel_config import current

    def parallel(*args, **kwargs):
        # The rewritten signature passes the signature's template first.
        return current().session.submit(action, args[1:], kwargs)

    return qiime2_private.signed_like(action, parallel, 'parallel')


def install():
    """Install the hooks once per process, on the framework release they
    were written for."""
    global _installed
    if _installed or not qiime2_private.is_known_release():
        return
    from . import qiime2_compat

    qiime2_private.add_action_attribute('parallel', _ParallelAttribute())
    qiime2_private.lock_cache_per_thread()
    qiime2_private.provide_module('parallel_config', qiime2_compat)
    _installed = True
