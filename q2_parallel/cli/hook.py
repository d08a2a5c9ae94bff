"""Give every Pipeline of the stock `qiime` command `--parallel` and
`--parallel-config FILE`.

q2cli builds its commands from a cached description of the deployment and
rejects unknown options before any plugin is imported, so the options cannot
come from the plugin.  Instead the `q2_parallel-cli.pth` file that setup.py
puts in site-packages calls `install()` at interpreter start-up.  It adds a
meta-path finder that lets two q2cli modules run as usual and then patches
them; importing this module costs well under a millisecond and nothing else
happens until q2cli is imported.

The q2cli 2022.11 internals this relies on:

- `q2cli.core.state.get_action_state(action)`, a module-level function that
  builds the cached description of one action when the cache is refreshed.
  That description has no action type, so the patch records `action.type`
  under the key `'type'`.  A cache written without it (before this hook was
  installed) is refreshed once, the way q2cli refreshes it when the
  deployment changes.
- `q2cli.commands.ActionCommand`: `__init__(name, plugin, action)` builds the
  options, keeping the "Miscellaneous" ones in `self._misc` (shown in that
  order by `get_opt_groups`) and all of them in `self.params`; `__call__`
  receives the parsed options as keyword arguments and turns every one it
  gets into an action argument, so ours are removed before it sees them;
  it calls `self._get_action()` to get the action it runs, which is how
  `q2_parallel.cli.run` substitutes a parallel one.
"""
import sys

PARALLEL_HELP = (
    'Run the steps of this pipeline in parallel with Parsl, using the '
    'default parallel configuration: the file named by $QIIME2_CONFIG, else '
    'qiime2_config.toml in {user_dir} or {site_dir} or $CONDA_PREFIX/etc '
    '(written there with the defaults if it does not exist).')
PARALLEL_CONFIG_HELP = (
    'Run the steps of this pipeline in parallel with Parsl, using the '
    'parallel configuration in this TOML file instead of the default one '
    '(implies --parallel).')


def install():
    """Patch q2cli's modules as they are imported (at once if they already
    are).  Safe to call more than once."""
    if not any(isinstance(finder, _Q2cliPatcher) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Q2cliPatcher())
    for name, patch in _PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])


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
        self._patch(module)


def _record_action_type(state_module):
    get_action_state = state_module.get_action_state
    if getattr(get_action_state, 'records_action_type', False):
        return

    def get_action_state_with_type(action):
        state = get_action_state(action)
        state['type'] = action.type
        return state

    get_action_state_with_type.records_action_type = True
    state_module.get_action_state = get_action_state_with_type


def _add_parallel_options(commands_module):
    action_command = commands_module.ActionCommand
    if getattr(action_command, 'has_parallel_options', False):
        return
    original_init = action_command.__init__
    original_call = action_command.__call__

    def __init__(self, name, plugin, action):
        action = _typed_action_state(plugin, action)
        original_init(self, name, plugin, action)
        if action.get('type') == 'pipeline':
            options = _parallel_options()
            self.params.extend(options)
            names = [option.name for option in self._misc]
            after_verbose = names.index('verbose') + 1
            self._misc[after_verbose:after_verbose] = options

    def __call__(self, **kwargs):
        parallel = kwargs.pop('parallel', False)
        config_path = kwargs.pop('parallel_config', None)
        if not parallel and config_path is None:
            return original_call(self, **kwargs)
        from q2_parallel.cli.run import run_in_parallel
        return run_in_parallel(self, original_call, kwargs, config_path)

    action_command.__init__ = __init__
    action_command.__call__ = __call__
    action_command.has_parallel_options = True


def _typed_action_state(plugin, action):
    """The cached state of `action`, refreshed once if it predates this
    hook and so does not say whether the action is a Pipeline."""
    if 'type' in action:
        return action
    from q2cli.core.cache import CACHE
    CACHE.refresh()
    actions = CACHE.plugins.get(plugin['name'], {}).get('actions', {})
    return actions.get(action['id'], action)


def _parallel_options():
    import click
    return [
        click.Option(['--parallel'], is_flag=True,
                     help=PARALLEL_HELP.format(**_config_dirs())),
        click.Option(['--parallel-config'], type=click.Path(dir_okay=False),
                     help=PARALLEL_CONFIG_HELP),
    ]


def _config_dirs():
    import appdirs
    return {'user_dir': appdirs.user_config_dir('qiime2'),
            'site_dir': appdirs.site_config_dir('qiime2')}


_PATCHES = {
    'q2cli.core.state': _record_action_type,
    'q2cli.commands': _add_parallel_options,
}
