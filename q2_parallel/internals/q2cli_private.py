"""The parts of q2cli 2022.11 below its documented interface that the CLI
hook uses (line numbers are 2022.11.1's).

q2cli builds its commands from a cached description of the deployment and
rejects unknown options before any plugin is imported
(``q2cli/click/command.py`` :40-84), so options can only be added by
extending its ``ActionCommand``.
"""
# The q2cli release whose internals this module was written for.
KNOWN_RELEASE = '2022.11'
# The log q2cli writes an action's output to (``q2cli/commands.py`` :336).
ERROR_LOG_PATTERN = 'qiime2-q2cli-err-*.log'


def release():
    """The release of the q2cli being imported, e.g. '2022.11'.  Read from
    the installed distribution, so that neither q2cli nor the framework is
    imported for it."""
    from importlib import metadata

    version = metadata.version('q2cli')
    return '.'.join(version.split('.')[:2])


def framework_release():
    """The release of the installed QIIME 2 framework, read the same way."""
    from importlib import metadata

    version = metadata.version('qiime2')
    return '.'.join(version.split('.')[:2])


def record_action_types(state_module):
    """Have ``q2cli.core.state.get_action_state(action)``, which describes
    one action for q2cli's cache, record ``action.type`` under 'type': the
    cached description says nothing of it, and only Pipelines get the
    parallel options."""
    get_action_state = state_module.get_action_state
    if getattr(get_action_state, 'records_action_type', False):
        return

    def get_action_state_with_type(action):
        state = get_action_state(action)
        state['type'] = action.type
        return state

    get_action_state_with_type.records_action_type = True
    state_module.get_action_state = get_action_state_with_type


def extend_action_commands(commands_module, options_for, run):
    """Extend ``q2cli.commands.ActionCommand`` (commands.py :209-326).

    ``options_for(action_state)`` gives the click options to add to an
    action's command, after ``--verbose`` among its "Miscellaneous" ones
    (``self._misc``, in ``get_opt_groups``'s order) and in ``self.params``.
    ``run(command, q2cli_call, kwargs)`` is called with the parsed options
    instead of q2cli's ``__call__``, which turns every option it gets into an
    action argument: ``run`` removes its own options before calling
    ``q2cli_call(command, **kwargs)``.
    """
    action_command = commands_module.ActionCommand
    if getattr(action_command, 'has_parallel_options', False):
        return
    original_init = action_command.__init__
    original_call = action_command.__call__

    def __init__(self, name, plugin, action):
        action = _typed_action_state(plugin, action)
        original_init(self, name, plugin, action)
        options = options_for(action)
        if options:
            self.params.extend(options)
            names = [option.name for option in self._misc]
            after_verbose = names.index('verbose') + 1
            self._misc[after_verbose:after_verbose] = options

    def __call__(self, **kwargs):
        return run(self, original_call, kwargs)

    action_command.__init__ = __init__
    action_command.__call__ = __call__
    action_command.has_parallel_options = True


def _typed_action_state(plugin, action):
    """The cached state of ``action``, refreshed once if it predates the
    hook and so has no 'type' (``q2cli.core.cache.CACHE.refresh``, as q2cli
    refreshes it when the deployment changes)."""
    if 'type' in action:
        return action
    from q2cli.core.cache import CACHE
    CACHE.refresh()
    actions = CACHE.plugins.get(plugin['name'], {}).get('actions', {})
    return actions.get(action['id'], action)


def command_action(command):
    """The action an ``ActionCommand`` runs (``_get_action``)."""
    return command._get_action()


def run_instead(command, action):
    """Make ``command`` run ``action`` instead of its own: ``__call__`` asks
    ``self._get_action()`` for the action it runs."""
    command._get_action = lambda: action


def error_style(text):
    """``text`` styled as q2cli styles errors (``CONFIG.cfg_style``)."""
    from q2cli.core.config import CONFIG

    return CONFIG.cfg_style('error', text)


def exit_with_error(error, header, traceback):
    """Report ``error`` and exit as q2cli does (``q2cli.util``)."""
    import q2cli.util

    q2cli.util.exit_with_error(error, header=header, traceback=traceback)


def warn(text):
    """One line on stderr, in q2cli's warning style on a terminal."""
    import click

    try:
        from q2cli.core.config import CONFIG
        text = CONFIG.cfg_style('warning', text)
    except Exception:
        pass
    click.echo(text, err=True)  # drops the style where it is no terminal
