"""List and remove what parallel runs keep on purpose.

    python -m q2_parallel.kept                  list recycle pools and log
                                                folders, with sizes and ages
    python -m q2_parallel.kept remove NAME...   remove those named

Recycle pools hold the results of finished steps, so that a run that failed
or was stopped, run again, redoes only the rest (a pool named after the
Pipeline goes when its run succeeds; one named with --recycle-pool stays).
Log folders hold Parsl's logs of runs that failed or were stopped (the 20
newest are kept).  `--cache DIR` and `--run-dir DIR` say where to look
when a run used `--use-cache` or a config's `run_dir`.
"""
import os
import shutil
import time
from pathlib import Path

import click

from q2_parallel.config.default import default_run_dir
from q2_parallel.engine._recycle import INDEX_FOLDER, RecyclePool


@click.group(invoke_without_command=True, help=__doc__.split('\n')[0])
@click.option('--cache', 'cache_path', type=click.Path(file_okay=False),
              help="QIIME 2's cache (default: $TMPDIR/qiime2/$USER).")
@click.option('--run-dir', type=click.Path(file_okay=False),
              default=default_run_dir,
              help="Where Parsl's log folders are (default: the run_dir "
                   "of the default config, ~/.cache/qiime2/parallel/"
                   "runinfo).")
@click.pass_context
def main(context, cache_path, run_dir):
    context.obj = _Places(cache_path, run_dir)
    if context.invoked_subcommand is None:
        _list(context.obj)


class _Places:
    def __init__(self, cache_path, run_dir):
        self.cache_path = cache_path
        self.run_dir = Path(run_dir)

    def cache(self):
        from qiime2.core.cache import Cache, get_cache
        return get_cache() if self.cache_path is None \
            else Cache(self.cache_path)

    def pools(self):
        """Recycle pools: name -> RecyclePool."""
        cache = self.cache()
        index = Path(cache.path) / INDEX_FOLDER
        names = sorted(p.name for p in index.iterdir()) \
            if index.is_dir() else []
        return cache, {name: RecyclePool.create(cache, name)
                       for name in names if (cache.pools / name).is_dir()}

    def log_folders(self):
        return {p.name: p for p in sorted(self.run_dir.glob('run-*-*'))}


def _list(places):
    cache, pools = places.pools()
    click.echo(f'Recycle pools in the cache {cache.path}:')
    for name, pool in pools.items():
        entries = list(pool.index.glob('*.json'))
        size = sum(_size(cache.data / link.name)
                   for link in Path(pool.path).iterdir())
        used = max([e.stat().st_mtime for e in entries]
                   or [pool.index.stat().st_mtime])
        click.echo(f'  {name}  {len(entries)} steps, {_human(size)}, last '
                   f'used {_age(used)} ago' + _in_use(pool))
    if not pools:
        click.echo('  none')
    folders = places.log_folders()
    click.echo(f"Log folders of failed or stopped runs in {places.run_dir}:")
    for name, folder in folders.items():
        click.echo(f'  {name}  {_human(_size(folder))}, '
                   f'{_age(folder.stat().st_mtime)} old')
    if not folders:
        click.echo('  none')


@main.command()
@click.argument('names', nargs=-1, required=True)
@click.pass_obj
def remove(places, names):
    """Remove the recycle pools and log folders NAMES (as listed)."""
    cache, pools = places.pools()
    folders = places.log_folders()
    unknown = [n for n in names if n not in pools and n not in folders]
    if unknown:
        raise click.ClickException(
            f'Nothing is kept under the name {", ".join(unknown)}: '
            '`python -m q2_parallel.kept` lists what is.')
    for name in names:
        if name in folders:
            shutil.rmtree(folders[name])
        elif pools[name].in_use():
            raise click.ClickException(
                f'The recycle pool {name} is in use by a run that is still '
                'going: remove it once that run has ended.')
        else:
            pools[name].remove()
        click.echo(f'Removed {name}')


def _in_use(pool):
    return ' (in use by a run now)' if pool.in_use() else ''


def _size(path):
    """Bytes under ``path``, links not followed."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def _human(size):
    for unit in ('bytes', 'kB', 'MB'):
        if size < 1000:
            return f'{size:.0f} {unit}'
        size /= 1000
    return f'{size:.1f} GB'


def _age(since):
    seconds = max(time.time() - since, 0)
    for unit, length in (('days', 86400), ('hours', 3600),
                         ('minutes', 60)):
        if seconds >= length:
            return f'{seconds / length:.0f} {unit}'
    return f'{seconds:.0f} seconds'


if __name__ == '__main__':
    main()
