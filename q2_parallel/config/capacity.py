"""How many steps a parallel config lets run at once.  A config that allows
one (the default config on a 2-core machine: one thread) makes a parallel
run no faster than a serial one, and the user should hear so."""
import math

from .errors import say_once


def steps_at_once(executors):
    """How many steps ``executors`` (Parsl executor objects) can run at the
    same time; ``math.inf`` where Parsl decides (e.g. one worker per core)."""
    from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor

    total = 0
    for executor in executors:
        if isinstance(executor, ThreadPoolExecutor):
            total += executor.max_threads
        elif isinstance(executor, HighThroughputExecutor):
            workers = executor.max_workers_per_node or math.inf
            provider = executor.provider
            total += (workers * getattr(provider, 'nodes_per_block', 1)
                      * max(getattr(provider, 'max_blocks', 1), 1))
        else:
            total = math.inf
    return total


def warn_if_one_step_at_a_time(executors, source=None):
    """Say once when ``executors`` can run only one step at a time, and how
    to change that."""
    if steps_at_once(executors) != 1:
        return
    where = f' in {source}' if source else ''
    say_once('q2-parallel: note: this parallel config runs one step at a'
             ' time, so a parallel run is no faster than a serial one. For'
             ' steps to overlap, raise max_threads (ThreadPoolExecutor) or'
             f' max_workers_per_node (HighThroughputExecutor){where}, or map'
             ' steps to an executor with more workers.')
