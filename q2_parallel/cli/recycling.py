"""`--recycle-pool`, `--no-recycle` and `--use-cache` of a parallel run on
the command line: which pool and cache the engine uses, and what the user
is told about them."""
import collections

import click

from q2_parallel.engine.errors import command_line_name
from q2_parallel.internals import q2cli_private

# How the run keeps finished steps: the pool's name, and whether it goes
# when the run succeeds (the default pool does; one the user named stays).
Recycling = collections.namedtuple('Recycling', 'pool remove_on_success')

CACHE_ERROR_HEADER = 'Nothing was run because the cache cannot be used:'


def parallel_config_arguments(recycle):
    """ParallelConfig's arguments for `recycle` (None: no recycling)."""
    if recycle is None:
        return {}
    return {'recycle_pool': recycle.pool,
            'remove_recycle_pool': recycle.remove_on_success}


def kept(parallel_config):
    """What the message of a failed or stopped run says, on a line of its
    own, about the recycle pool that keeps its finished steps' results."""
    pool = parallel_config.recycle_pool
    if pool is None:
        return ''
    return (f'\nThe results of its finished steps are kept in the recycle '
            f'pool {pool} (cache {parallel_config.session.cache.path}): run'
            ' the same command again to reuse them.')


def report(parallel_config, verbose):
    """Say which steps came from the recycle pool, unless --quiet."""
    if verbose is False:
        return
    for how, saying in (('reused', 'taken from'),
                        ('recomputed', 'run again: their results had been '
                         'lost from')):
        steps = parallel_config.recycled[how]
        if steps:
            counts = collections.Counter(map(command_line_name, steps))
            named = ', '.join(f'{name} ({n})' if n > 1 else name
                              for name, n in sorted(counts.items()))
            click.echo(f'{len(steps)} step{"s" * (len(steps) != 1)} '
                       f'{saying} the recycle pool '
                       f'{parallel_config.recycle_pool}: {named}', err=True)


def enter_cache(stack, path):
    """Use the QIIME 2 cache at `path` (made if missing) for the run."""
    from qiime2.core.cache import Cache
    try:
        stack.enter_context(Cache(path))
    except Exception as error:
        q2cli_private.exit_with_error(
            RecyclingError(f'--use-cache {path}: {error}'),
            header=CACHE_ERROR_HEADER, traceback=None)


class RecyclingError(Exception):
    """The cache given with --use-cache cannot be used."""
