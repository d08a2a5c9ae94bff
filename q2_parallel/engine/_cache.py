"""Where a parallel run keeps its artifacts: the QIIME 2 cache on disk.

Steps never pickle an Artifact, a Context or a Cache (unpickling those arms
finalizers that delete the original's files, see the framework notes).
Artifacts travel between processes as UUIDs of data in the cache's ``data/``
directory, which every process of the user can read. A named pool, created
for the run and removed when it ends, keeps that data alive while it is in
flight between processes.
"""
import contextlib
import os
import shutil
import uuid as _uuid

import psutil

from q2_parallel.internals import qiime2_private


@contextlib.contextmanager
def entered(cache):
    """Make ``cache`` the current one in this thread, as the framework does
    for the thread that started the run.  Threads the framework did not
    start lack the thread-local attributes it expects."""
    if qiime2_private.current_cache() is cache:
        yield cache
        return
    with cache:
        yield cache


class RunPool:
    """The named pool that holds one run's artifacts while it lasts."""

    def __init__(self, cache, pool, key=None):
        self.cache = cache
        self.pool = pool
        self.key = key

    @classmethod
    def create(cls, cache):
        """In the main process: a new pool, keyed so the cache keeps it.

        The key names this process, so that pools left by runs that were
        killed before they could remove theirs are removed here."""
        _remove_abandoned_pools(cache)
        _remove_dead_process_pools(cache)
        key = f'{_KEY_PREFIX}{process_stamp(psutil.Process())}_' \
              f'{_uuid.uuid4().hex}'
        return cls(cache, cache.create_pool(keys=[key]), key)

    @classmethod
    def open(cls, cache_path, pool_name):
        """In a worker process: the run's pool, found by its names."""
        cache = qiime2_private.open_cache(cache_path)
        return cls(cache, qiime2_private.open_pool(cache, pool_name))

    @property
    def name(self):
        return self.pool.name

    def keep(self, result):
        """Keep ``result``'s data in the cache for the rest of the run."""
        qiime2_private.keep_in_pool(self.cache, self.pool, result)
        return str(result.uuid)

    def load(self, uuid):
        """A result backed by ``uuid``'s data in the cache."""
        return qiime2_private.load_from_cache(self.cache, uuid)

    def release_process_pool(self):
        """In a worker process, after a step: drop every reference this
        process holds in the cache.  Workers end by a signal, so their exit
        hook never would, and the run's pool holds what the run needs."""
        with self.cache.lock:
            for entry in os.scandir(
                    qiime2_private.process_pool_path(self.cache)):
                if entry.is_dir(follow_symlinks=False):  # an extraction
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)

    def remove(self):
        """Drop the pool; data still referenced by live results stays."""
        self.cache.remove(self.key)


_KEY_PREFIX = 'q2_parallel_run_'


def process_stamp(process):
    """``<pid>_<start time>``: names one process, even once its PID is
    reused."""
    return f'{process.pid}_{int(process.create_time())}'


def alive(pid, started):
    """Whether process ``pid``, started at ``started`` (seconds since the
    epoch), still runs; a reused PID has a later start time.  A second of
    slack absorbs how start times are rounded in names."""
    try:
        return abs(psutil.Process(int(pid)).create_time()
                   - float(started)) < 1
    except (ValueError, psutil.Error):
        return False


def _owner_alive(key):
    """A run's pool is keyed ``q2_parallel_run_<pid>_<start time>_<id>``."""
    pid, started, *_ = key[len(_KEY_PREFIX):].split('_') + ['', '']
    return alive(pid, started)


def _remove_abandoned_pools(cache):
    abandoned = [key for key in cache.get_keys()
                 if key.startswith(_KEY_PREFIX) and not _owner_alive(key)]
    if abandoned:
        with cache.lock:
            for key in abandoned:
                (qiime2_private.keys_path(cache) / key).unlink(
                    missing_ok=True)
            cache.garbage_collection()


def _remove_dead_process_pools(cache):
    """Remove the process pools of processes that have ended, with the data
    only they held.  Worker processes are stopped by a signal, so their own
    exit hook never removes theirs, and QIIME 2 keeps such pools for 45
    days."""
    with cache.lock:
        dead = [name for name in cache.get_processes()
                if not _pool_owner_alive(name)]
        for name in dead:
            shutil.rmtree(qiime2_private.process_pools_path(cache) / name,
                          ignore_errors=True)
        if dead:
            cache.garbage_collection()


def _pool_owner_alive(pool_name):
    """QIIME 2 names a process pool ``<pid>-<start time>@<user>``."""
    pid, _, started = pool_name.split('@')[0].partition('-')
    return alive(pid, started)
