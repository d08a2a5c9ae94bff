"""Resuming a run: each finished step's results kept in a named pool of
QIIME 2's cache (the recycle pool), found again by what the step was given.

A step's key is a hash of its plugin (and version), its action and its
arguments: inputs by UUID, parameters by value (Metadata by content).  Steps
are looked up where they run, once their inputs exist, so a step after a
reused one is found too (its inputs are the reused results, with the same
UUIDs).  The pool holds the results' data; an index beside the cache's own
folders maps each key to the UUIDs of the step's outputs.  An index entry
is written (atomically) only after every output is in the pool: an entry a
killed run left half-written does not exist, and one whose data has gone
is recomputed and said so.  Two runs may share a pool: each reads the index
and writes whole entries; the last one written wins, and both are correct.
"""
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import psutil

from q2_parallel.internals import qiime2_private

from ._cache import alive, process_stamp

# Beside the cache's own folders (a cache may hold more than those).
INDEX_FOLDER = 'q2-parallel-recycle'
# In a pool's index: one empty file per process using the pool.
_USER_PREFIX = 'users'


class RecyclePool:
    """A named pool of ``cache`` that keeps steps' results for reruns."""

    def __init__(self, cache, pool):
        self.cache = cache
        self.pool = pool
        self.name = pool.name
        self.index = Path(cache.path) / INDEX_FOLDER / pool.name
        self.index.mkdir(parents=True, exist_ok=True)
        self._keeping = True

    @classmethod
    def create(cls, cache, name):
        """The pool keyed ``name`` in ``cache``, created if it is missing."""
        if not name.isidentifier():
            raise ValueError(
                f'{name!r} cannot name a recycle pool: QIIME 2 names pools '
                'like Python names (letters, digits and underscores, not '
                'starting with a digit).')
        return cls(cache, cache.create_pool(keys=[name], reuse=True))

    @classmethod
    def open(cls, cache, name):
        """In a worker process: the run's pool, by its name."""
        return cls(cache, qiime2_private.open_pool(cache, name))

    @property
    def path(self):
        return self.pool.path

    def lookup(self, key):
        """The results kept for ``key``; None if there are none, and
        ``RecycledEntryLost`` if the entry's data has gone."""
        entry = self.index / f'{key}.json'
        try:
            uuids = json.loads(entry.read_text())['outputs']
        except (OSError, ValueError, KeyError):
            return None
        try:
            return tuple(qiime2_private.load_from_cache(self.cache, uuid)
                         for uuid in uuids)
        except Exception as error:
            entry.unlink(missing_ok=True)
            raise RecycledEntryLost(str(error)) from error

    def stop_keeping(self):
        """Keep nothing from now on: the run has stopped, and a step that
        still ends in a thread may have had its programs ended under it."""
        self._keeping = False

    def keep(self, key, results, step):
        """Keep ``results`` (the outputs of ``step``, 'plugin:action') for
        ``key``."""
        if not self._keeping:
            return
        for result in results:
            qiime2_private.keep_in_pool(self.cache, self.pool, result)
        entry = {'step': step, 'outputs': [str(r.uuid) for r in results]}
        fd, temporary = tempfile.mkstemp(dir=self.index, suffix='.part')
        with os.fdopen(fd, 'w') as file:
            json.dump(entry, file)
        os.replace(temporary, self.index / f'{key}.json')

    def join(self):
        """Say that this process uses the pool (``leave`` when done)."""
        (self.index / _USER_PREFIX).mkdir(exist_ok=True)
        (self.index / _USER_PREFIX / _this_process()).touch()

    def leave(self, remove):
        """This process no longer uses the pool; with ``remove``, remove the
        pool unless another live process uses it."""
        (self.index / _USER_PREFIX / _this_process()).unlink(missing_ok=True)
        if remove and not self.in_use():
            self.remove()

    def in_use(self):
        """Whether a live process uses the pool."""
        return any(alive(*p.name.split('_'))
                   for p in (self.index / _USER_PREFIX).glob('*'))

    def remove(self):
        """Remove the pool, its index and the data only it kept."""
        self.cache.remove(self.name)
        shutil.rmtree(self.index, ignore_errors=True)


class RecycledEntryLost(Exception):
    """A step's entry in the recycle pool names data that is gone."""


def run_or_reuse(recycle, action, args, kwargs, run):
    """``(results, how)``: the step's results kept in ``recycle`` if it has
    them (``how`` is 'reused'), else those of ``run()``, then kept there
    ('ran', or 'recomputed' when the kept entry had lost its data)."""
    if recycle is None:
        return run(), 'ran'
    key = step_key(action, args, kwargs)
    how = 'ran'
    try:
        results = recycle.lookup(key)
    except RecycledEntryLost:
        results, how = None, 'recomputed'
    if results is not None:
        return results, 'reused'
    results = run()
    recycle.keep(key, results, f'{action.plugin_id}:{action.id}')
    return results, how


def step_key(action, args, kwargs):
    """What identifies a step's work: the same key, the same results."""
    from qiime2.sdk import PluginManager

    plugin = PluginManager().get_plugin(id=action.plugin_id)
    described = {'plugin': action.plugin_id, 'version': plugin.version,
                 'action': action.id,
                 'args': [_described(a) for a in args],
                 'kwargs': {k: _described(v) for k, v in kwargs.items()}}
    text = json.dumps(described, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _described(value):
    from qiime2 import Metadata, MetadataColumn
    from qiime2.sdk import Result

    if isinstance(value, Result):
        return {'result': str(value.uuid)}
    if isinstance(value, Metadata):
        return {'metadata': _content_hash(value.to_dataframe()),
                'types': {name: column.type for name, column
                          in value.columns.items()}}
    if isinstance(value, MetadataColumn):
        return {'column': _content_hash(value.to_series()),
                'type': value.type}
    if isinstance(value, (list, tuple)):
        return [_described(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_described(v) for v in value), key=json.dumps)
    if isinstance(value, dict):
        return {str(k): _described(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _content_hash(frame):
    return hashlib.sha256(frame.to_csv().encode()).hexdigest()


def _this_process():
    return process_stamp(psutil.Process())
