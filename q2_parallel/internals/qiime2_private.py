"""The parts of the QIIME 2 2022.11 framework below its documented
interface that the engine uses (line numbers are 2022.11.1's).

QIIME 2 2023.5 and later run Pipelines in parallel themselves
(``qiime2.sdk.parallel_config``); ``has_own_engine`` tells, and then
q2-parallel installs none of its hooks.
"""
import os
import random
import threading
import time

# The framework release whose internals this module was written for.
KNOWN_RELEASE = '2022.11'


def release():
    """The installed framework's release, e.g. '2022.11'
    (``qiime2.__release__``)."""
    import qiime2

    return qiime2.__release__


def is_known_release():
    """Whether the installed framework is the release this module knows."""
    return release() == KNOWN_RELEASE


def has_own_engine():
    """Whether the installed framework brings its own parallel engine
    (QIIME 2 2023.5 and later: ``qiime2.sdk.parallel_config``)."""
    import importlib.util

    return not is_known_release() and importlib.util.find_spec(
        'qiime2.sdk.parallel_config') is not None


def framework_parallel_config():
    """The framework's own ``ParallelConfig`` (2023.5 and later)."""
    from qiime2.sdk.parallel_config import ParallelConfig

    return ParallelConfig


# Actions -------------------------------------------------------------------

def add_action_attribute(name, descriptor):
    """Put ``descriptor`` on ``qiime2.sdk.action.Action`` as ``name``.
    Each action builds its callables when it is created (``_Action__init``,
    action.py :88-101), so a class attribute is the way to reach actions
    that exist already."""
    from qiime2.sdk.action import Action

    setattr(Action, name, descriptor)


def signed_like(action, function, name):
    """``function`` with the signature, docstring and name of ``action``'s
    own callables, made the way ``__call__`` and ``asynchronous`` are made
    (``_rewrite_wrapper_signature``, ``_set_wrapper_properties``,
    ``_set_wrapper_name``, action.py :292-322).  The rewritten signature
    passes a template first, which ``function`` must accept and ignore."""
    function = action._rewrite_wrapper_signature(function)
    action._set_wrapper_properties(function)
    action._set_wrapper_name(function, name)
    return function


def call_with_context(action, context_factory, args, kwargs):
    """Run ``action`` with the ``Context`` that ``context_factory`` makes,
    as the framework runs a step (``_bind``, action.py :151): provenance,
    type checks and transformation included.  Inputs must be real results,
    not stand-ins."""
    return action._bind(context_factory)(*args, **kwargs)


# The cache -----------------------------------------------------------------

def lock_cache_per_thread():
    """Make the cache's ``MEGALock`` (cache.py :270-310) re-entrant per
    thread instead of per object: it counts re-entries on the object, so a
    second thread walked into a lock the first one held (4 threads were
    inside at once).  Its file lock (``flufl.lock``) sleeps up to 2 s
    between tries of a lock another process holds; workers take it for
    every step, so it tries again within milliseconds (a 32-partition
    Pipeline of trivial steps on 2 HTEX workers: 6.8 s -> 2.3 s)."""
    from qiime2.core.cache import MEGALock

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


def current_cache():
    """The cache this thread uses, or None.  The framework keeps it in a
    thread-local (``_CACHE``, cache.py :75-77) that only the thread that
    imported the module has: other threads get the attribute set here."""
    from qiime2.core import cache

    if not hasattr(cache._CACHE, 'cache'):
        cache._CACHE.cache = None
    return cache._CACHE.cache


def forget_caches():
    """Forget the caches this process used (the thread-local current and
    temporary caches, ``_CACHE``, and ``USED_CACHES``, which the exit hook
    cleans up): in a process forked from another, they are the other's."""
    from qiime2.core import cache

    cache._CACHE.cache = None
    cache._CACHE.temp_cache = None
    cache.USED_CACHES.clear()


def open_cache(path):
    """The cache at ``path`` (``qiime2.core.cache.Cache``)."""
    from qiime2.core.cache import Cache

    return Cache(path)


def open_pool(cache, name):
    """The existing named pool ``name`` of ``cache``."""
    from qiime2.core.cache import Pool

    return Pool(cache, name=name, reuse=True)


def keep_in_pool(cache, pool, result):
    """Copy ``result``'s data into ``cache`` (``_copy_to_data``) and link it
    from ``pool`` (``_make_symlink``), so another process can load it by
    UUID while the pool lasts."""
    cache._copy_to_data(result)
    pool._make_symlink(str(result.uuid), str(result.uuid))


def load_from_cache(cache, uuid):
    """The result whose data is ``cache``'s ``data/<uuid>``, without a
    copy (``Archiver.load_raw``, ``Result._from_archiver``)."""
    from qiime2.core.archive import Archiver
    from qiime2.sdk import Result

    return Result._from_archiver(Archiver.load_raw(cache.data / uuid, cache))


def process_pool_path(cache):
    """The folder of this process's own pool in ``cache``."""
    return cache.process_pool.path


def process_pools_path(cache):
    """The folder holding every process's pool in ``cache``; each is named
    ``<pid>-<start time>@<user>`` (cache.py :700-706)."""
    return cache.processes


def keys_path(cache):
    """The folder of ``cache``'s keys."""
    return cache.keys


def installed_actions():
    """plugin name -> ids of its actions, for the plugins loaded now (one
    registered from a notebook counts)."""
    from qiime2.sdk import PluginManager

    return {name: list(plugin.actions)
            for name, plugin in PluginManager().plugins.items()}


def clean_up_as_at_exit(attempts=3, searches=10):
    """Remove what QIIME 2 removes when the process exits normally, which
    ``os._exit`` skips: the temporary files and folders it made in this
    process and has not removed yet (provenance, archives, outputs being
    written: ``core/path.py``'s ``OutPath`` and ``InternalDirectory``, each
    with a ``weakref.finalize`` as ``_destructor``), and this process's pool
    in each cache it used (``core/cache.py``'s ``_exit_cleanup``, without
    the garbage collection that would wait for the cache's lock).  A step
    still running in a thread may be writing into a folder, so removal is
    retried, and may make new ones meanwhile (a step that returns makes its
    outputs), so the search is repeated until it finds no new one (at most
    ``searches`` times)."""
    import gc
    import shutil

    from qiime2.core.cache import USED_CACHES
    from qiime2.core.path import InternalDirectory, OutPath

    for _ in range(searches):
        removals = list(filter(None, (
            obj._destructor.detach() for obj in gc.get_objects()
            if isinstance(obj, (InternalDirectory, OutPath))
            and getattr(obj, '_destructor', None) is not None)))
        if not removals:
            break
        for path, remove, args, kwargs in removals:
            for _ in range(attempts):
                try:
                    remove(*args, **kwargs)
                    break
                except OSError:
                    continue
            else:
                shutil.rmtree(str(path), ignore_errors=True)
    for cache in list(USED_CACHES):
        shutil.rmtree(cache.processes / os.path.basename(
            cache.process_pool.path), ignore_errors=True)


# Modules -------------------------------------------------------------------

def provide_module(name, module):
    """Make ``module`` importable as ``qiime2.sdk.<name>`` (2022.11 has no
    ``qiime2.sdk.parallel_config``; code written for later releases imports
    it)."""
    import sys

    import qiime2.sdk

    full_name = f'qiime2.sdk.{name}'
    sys.modules.setdefault(full_name, module)
    setattr(qiime2.sdk, name, sys.modules[full_name])
