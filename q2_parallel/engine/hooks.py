"""How q2-parallel plugs its engine into the QIIME 2 2022.11 framework.

Installed when QIIME 2 loads this plugin (end of ``plugin_setup``), so every
action of every plugin has ``.parallel`` once any ``qiime2.plugins`` import
has happened. Framework internals relied on, all of ``qiime2`` 2022.11:

- ``qiime2.sdk.action.Action``: per-instance callables are built when an
  action is created, so ``parallel`` is a descriptor on the class; its wrapper
  gets the action's signature through ``Action._rewrite_wrapper_signature``
  and ``_set_wrapper_properties`` as ``__call__`` and ``asynchronous`` do.
- ``Action._bind(context_factory)`` runs an action with a given ``Context``;
  the engine passes a ``ParallelContext`` for Pipelines (see ``context``).
- ``qiime2.core.cache.MEGALock`` counts re-entries per lock object, not per
  thread, so a second thread walks into a held lock. Steps on a thread pool
  share the cache, so the lock is made to count per thread. Its file lock
  (``flufl.lock``) sleeps up to 2 s between tries of a lock another process
  holds; workers and the main process take it for every step, so it is made
  to try again within milliseconds (a 32-partition Pipeline of trivial
  steps on 2 HTEX workers: 6.8 s -> 2.3 s).
- ``qiime2.sdk.parallel_config`` does not exist before 2023.5; it is
  provided here so code written for later releases runs unchanged.
"""
import random
import sys
import threading
import time

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

    parallel = action._rewrite_wrapper_signature(parallel)
    action._set_wrapper_properties(parallel)
    action._set_wrapper_name(parallel, 'parallel')
    return parallel


def _lock_per_thread(MEGALock):
    """Make the cache's lock re-entrant per thread instead of per object."""
    setstate = MEGALock.__setstate__

    def enter(self):
        me = threading.get_ident()
        if self.__dict__.get('_q2p_owner') == me:
            self.re_entries += 1
            return
        self.flufl_lock._sleep = _snooze
        self.thread_lock.acquire()
        try:
            self.flufl_lock.lock()
        except BaseException:
            self.thread_lock.release()
            raise
        self._q2p_owner = me
        self.re_entries = 1

    def exit(self, *args):
        self.re_entries -= 1
        if self.re_entries == 0:
            self._q2p_owner = None
            self.flufl_lock.unlock()
            self.thread_lock.release()

    def restore(self, state):
        setstate(self, state)
        self.re_entries = 0
        self._q2p_owner = None

    MEGALock.__enter__ = enter
    MEGALock.__exit__ = exit
    MEGALock.__setstate__ = restore


def _snooze():
    """Wait a moment before trying a lock another process holds again."""
    time.sleep(random.uniform(0.001, 0.02))


def install():
    """Install the hooks once per process."""
    global _installed
    if _installed:
        return
    import qiime2.sdk
    from qiime2.core.cache import MEGALock
    from qiime2.sdk.action import Action

    from . import qiime2_compat

    Action.parallel = _ParallelAttribute()
    _lock_per_thread(MEGALock)
    sys.modules.setdefault('qiime2.sdk.parallel_config', qiime2_compat)
    qiime2.sdk.parallel_config = sys.modules['qiime2.sdk.parallel_config']
    _installed = True
