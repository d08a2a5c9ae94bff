"""Arguments of a step on their way to an executor.

A step's arguments may hold stand-ins for results not computed yet, alone or
inside lists, tuples, sets and dicts (as a combine step takes them). Before
submission they are replaced by placeholders and the futures behind them are
handed to Parsl as the app's dependencies; once those are done, the app fills
the placeholders in with the real results.  Results bound for another process
are replaced by their UUID in the cache.
"""
from qiime2.sdk import Result


class FromStep:
    """The ``index``-th output of the ``dep``-th dependency."""

    def __init__(self, dep, index):
        self.dep = dep
        self.index = index


class FromCache:
    """A result that already exists, by its UUID in the run's cache."""

    def __init__(self, uuid):
        self.uuid = uuid


def _map(value, leaf):
    """Rebuild ``value`` with ``leaf`` applied to every non-container."""
    if isinstance(value, dict):
        return {k: _map(v, leaf) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(_map(v, leaf) for v in value)
    return leaf(value)


def detach(args, kwargs, *, keep=None):
    """Placeholders for stand-ins (and, with ``keep``, for real results):
    returns ``(args, kwargs, futures)``; ``keep(result) -> uuid`` makes a
    result reachable from another process."""
    from .proxies import ProxyResult

    futures = []

    def leaf(value):
        if isinstance(value, ProxyResult):
            step = value._q2p_step
            futures.append(step.future)
            return FromStep(len(futures) - 1, value._q2p_index)
        if keep is not None and isinstance(value, Result):
            return FromCache(keep(value))
        return value

    return _map(list(args), leaf), _map(kwargs, leaf), futures


def attach(args, kwargs, outputs, load):
    """Fill placeholders in with real results: ``outputs`` are the
    dependencies' ``StepOutput``s, ``load(uuid)`` loads from the cache."""
    def leaf(value):
        if isinstance(value, FromStep):
            return outputs[value.dep].results(load)[value.index]
        if isinstance(value, FromCache):
            return load(value.uuid)
        return value

    return _map(args, leaf), _map(kwargs, leaf)


def resolve(args, kwargs):
    """Wait for every stand-in in the arguments and put in its result."""
    from .proxies import ProxyResult

    def leaf(value):
        if isinstance(value, ProxyResult):
            return value._q2p_result()
        return value

    return _map(list(args), leaf), _map(kwargs, leaf)


class StepOutput:
    """What a step hands back: its outputs' UUIDs in the cache, and, when
    it ran in this process, the results themselves (never pickled); from
    another process, also what the step printed there and its
    ``StepClock`` for the run report."""

    def __init__(self, uuids, local=None, printed='', how='ran'):
        self.uuids = list(uuids)
        self.local = local
        self.printed = printed
        self.how = how  # 'ran', 'reused' from a recycle pool, 'recomputed'
        self.clock = None

    @classmethod
    def of(cls, results, how='ran'):
        """Results of this process: their data is in the cache already, and
        these objects keep it there while the run holds them."""
        return cls([str(r.uuid) for r in results], local=results, how=how)

    def results(self, load):
        if self.local is None:
            self.local = tuple(load(u) for u in self.uuids)
        return self.local

    def __getstate__(self):
        return {'uuids': self.uuids, 'local': None, 'printed': self.printed,
                'how': self.how, 'clock': self.clock}
