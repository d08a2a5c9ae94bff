"""Give every Pipeline of the stock `qiime` command `--parallel`,
`--parallel-config FILE` and `--parallel-report FILE`.

q2cli builds its commands from a cached description of the deployment and
rejects unknown options before any plugin is imported, so the options cannot
come from the plugin.  Instead the `q2_parallel-cli.pth` file that setup.py
puts in site-packages calls `install()` at interpreter start-up.  It adds a
meta-path finder that lets two q2cli modules run as usual and then patches
them; importing this module costs well under a millisecond and nothing else
happens until q2cli is imported.

The q2cli internals this relies on are in
`q2_parallel.internals.q2cli_private`.  They are patched only when q2cli and
the framework are the 2022.11 release they were written for: a later QIIME 2
has its own `--parallel`, and `qiime` is then left exactly as it is.  Should
patching fail anyway, `qiime` still works, without the options, and one line
says why.
"""
import functools
import sys

PARALLEL_HELP = (
    'Run the steps of this pipeline in parallel with Parsl, using the '
    'default parallel configuration: the file named by $QIIME2_CONFIG, else '
    'qiime2_config.toml in {user_dir} or {site_dir} or $CONDA_PREFIX/etc '
    '(written there with the defaults if it does not exist; with no conda '
    'environment active, the defaults are used as they are). `python -m '
    'q2_parallel.config show` says which.')
PARALLEL_CONFIG_HELP = (
    'Run the steps of this pipeline in parallel with Parsl, using the '
    'parallel configuration in this TOML file instead of the default one '
    '(implies --parallel).')
PARALLEL_REPORT_HELP = (
    'With --parallel or --parallel-config: write a report of the run to '
    'this HTML file (a timeline of every step and where the time went; '
    'one file, opens in any browser) and its facts as JSON beside it '
    '(run.html -> run.json). Written for failed and interrupted runs too.')
RECYCLE_POOL_HELP = (
    'In a parallel run: keep each finished step\'s results in this named '
    'pool of QIIME 2\'s cache, and take them from there when the same step '
    '(same action, inputs and parameters) runs again, so that running this '
    'command again after a failure or an interruption redoes only what did '
    'not finish. Without it, a parallel run uses a pool named '
    'recycle_<plugin>_<action>, removed when the run succeeds; a named pool '
    'is kept (`python -m q2_parallel.kept` lists and removes pools).')
NO_RECYCLE_HELP = (
    'In a parallel run: neither take steps\' results from a recycle pool '
    'nor keep them in one.')
USE_CACHE_HELP = (
    'In a parallel run: the QIIME 2 cache that holds the steps\' results '
    'and the recycle pool (default: $TMPDIR/qiime2/$USER). For a run on a '
    'cluster, a folder that every node can read and write.')
RECYCLING_OPTIONS = ('recycle_pool', 'no_recycle', 'use_cache')


def install():
    """Patch q2cli's modules as they are imported (at once if they already
    are).  Safe to call more than once."""
    if not any(isinstance(finder, _Q2cliPatcher) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Q2cliPatcher())
    for name, patch in _PATCHES.items():
        if name in sys.modules:
            _apply(patch, sys.modules[name])


class _Q2cliPatcher:
    """Meta-path finder: finds the q2cli modules we patch through the other
    finders and wraps their loaders."""

    def find_spec(self, fullname, path=None, target=None):
        patch = _PATCHES.get(fullname)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if hasattr(spec.loader, 'exec_module'):
            spec.loader = _PatchingLoader(spec.loader, patch)
        return spec


class _PatchingLoader:
    """Runs a module with its own loader, then patches it."""

    def __init__(self, loader, patch):
        self._loader = loader
        self._patch = patch

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _apply(self._patch, module)


def _apply(patch, module):
    """Patch a q2cli module if q2cli and the framework are the release
    whose internals we know; never let a failure break `qiime`."""
    from q2_parallel.internals import q2cli_private
    try:
        if not _known_releases():
            return
        patch(module)
    except Exception as error:
        q2cli_private.warn(
            f'q2-parallel: --parallel and --parallel-config are not available'
            f' (extending q2cli failed: {type(error).__name__}: {error}).')


@functools.lru_cache(maxsize=None)
def _known_releases():
    """Whether q2cli and the framework are the releases whose internals
    q2-parallel knows (read once: two modules are patched)."""
    from q2_parallel.internals import q2cli_private, qiime2_private
    return (q2cli_private.release() == q2cli_private.KNOWN_RELEASE
            and q2cli_private.framework_release()
            == qiime2_private.KNOWN_RELEASE)


def _record_action_types(state_module):
    from q2_parallel.internals import q2cli_private
    q2cli_private.record_action_types(state_module)


def _add_parallel_options(commands_module):
    from q2_parallel.internals import q2cli_private
    q2cli_private.extend_action_commands(commands_module, _options_for, _run)


def _options_for(action_state):
    """Pipelines get the parallel options; other actions none."""
    return _parallel_options() if action_state.get('type') == 'pipeline' \
        else []


def _run(command, q2cli_call, kwargs):
    parallel = kwargs.pop('parallel', False)
    config_path = kwargs.pop('parallel_config', None)
    report_path = kwargs.pop('parallel_report', None)
    recycling = {name: kwargs.pop(name, None) for name in RECYCLING_OPTIONS}
    if not parallel and config_path is None:
        given = [f'--{name.replace("_", "-")}' for name, value
                 in [('parallel_report', report_path), *recycling.items()]
                 if value]
        if given:
            _usage_error(f'{" and ".join(given)} '
                         f'work{"s" * (len(given) == 1)} only in a parallel '
                         'run: add --parallel or --parallel-config FILE.')
        return q2cli_call(command, **kwargs)
    from q2_parallel.cli.run import run_in_parallel
    return run_in_parallel(command, q2cli_call, kwargs, config_path,
                           report_path, **recycling)


def _usage_error(message):
    """One line on stderr and exit status 2, as click's usage errors."""
    import click

    from q2_parallel.internals import q2cli_private
    click.echo(q2cli_private.error_style(f'Error: {message}'), err=True)
    click.get_current_context().exit(2)


def _parallel_options():
    import click
    return [
        click.Option(['--parallel'], is_flag=True,
                     help=PARALLEL_HELP.format(**_config_dirs())),
        click.Option(['--parallel-config'], type=click.Path(dir_okay=False),
                     help=PARALLEL_CONFIG_HELP),
        click.Option(['--parallel-report'], type=click.Path(dir_okay=False),
                     help=PARALLEL_REPORT_HELP),
        click.Option(['--recycle-pool'], metavar='NAME',
                     callback=_pool_name, help=RECYCLE_POOL_HELP),
        click.Option(['--no-recycle'], is_flag=True, help=NO_RECYCLE_HELP),
        click.Option(['--use-cache'], metavar='DIR',
                     type=click.Path(file_okay=False), help=USE_CACHE_HELP),
    ]


def _pool_name(context, parameter, value):
    import click
    if value is not None and not value.isidentifier():
        raise click.BadParameter(
            f'{value!r}: QIIME 2 names pools like Python names (letters, '
            'digits and underscores, not starting with a digit).')
    return value


def _config_dirs():
    import appdirs
    return {'user_dir': appdirs.user_config_dir('qiime2'),
            'site_dir': appdirs.site_config_dir('qiime2')}


_PATCHES = {
    'q2cli.core.state': _record_action_types,
    'q2cli.commands': _add_parallel_options,
}
