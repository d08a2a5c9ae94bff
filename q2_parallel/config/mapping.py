"""Which executor an action runs on: the `[parsl.executor_mapping]` table.

Two forms are accepted and may be mixed: the spec's flat form
(`action = "label"`) and the per-plugin form of newer QIIME 2 releases
(`[parsl.executor_mapping.<plugin>]` then `action = "label"`). Plugin and
action names match with `_` and `-` alike, since QIIME 2 spells them both
ways (`feature-table` on the command line, `feature_table` in Python); a
plugin-qualified entry wins over a flat one; unmapped actions run on
"default".
"""
from .errors import ConfigError, naming_source
from .parsl_api import did_you_mean

TABLE = 'executor_mapping'  # the mapping's key in [parsl]
MAPPING_KEY = f'parsl.{TABLE}'


def mapping_entries(mapping, key=MAPPING_KEY):
    """(key path, executor label) of each entry of `mapping`, checking
    that it has one of the two forms."""
    if not isinstance(mapping, dict):
        raise ConfigError(
            'must be a table of action = "executor label" entries.', key=key)
    for name, value in mapping.items():
        entry_key = f'{key}.{name}'
        if isinstance(value, dict) and key == MAPPING_KEY:
            yield from mapping_entries(value, entry_key)
        elif isinstance(value, str):
            yield entry_key, value
        else:
            raise ConfigError(
                'must be the label of an executor in quotes (action ='
                ' "label"), or, directly under [parsl.executor_mapping], a'
                ' table of one plugin\'s actions.', key=entry_key)


def check_mapping(mapping, labels, source=None):
    """Raise ConfigError, naming the entry, if `mapping` sends an action to
    a label that none of the executors (`labels`) has."""
    labels = list(labels)
    with naming_source(source):
        for key, label in mapping_entries(mapping or {}):
            if label not in labels:
                raise ConfigError(
                    f'maps to the executor "{label}", but no executor has'
                    f' that label (labels: {", ".join(labels)}). Use one'
                    f' of those labels or add an executor labelled'
                    f' "{label}".', key=key)


def unknown_entries(mapping, actions_by_plugin):
    """(key path, what is wrong) of each entry of `mapping` that names an
    action or a plugin that `actions_by_plugin` (plugin name -> action ids,
    as loaded now) does not have, with the nearest real names: such an
    entry maps nothing (a typo, or a plugin this environment lacks)."""
    plugins = {_normal(name): name for name in actions_by_plugin}
    every_action = sorted({_shown(action) for actions
                           in actions_by_plugin.values()
                           for action in actions})
    for name, value in (mapping or {}).items():
        key = f'{MAPPING_KEY}.{name}'
        if not isinstance(value, dict):
            if _normal(name) not in map(_normal, every_action):
                yield key, ('names no action of any installed plugin.'
                            + did_you_mean(name, every_action))
            continue
        plugin = plugins.get(_normal(name))
        if plugin is None:
            yield key, ('names no installed plugin.' + did_you_mean(
                name, [_shown(plugin) for plugin in plugins.values()]))
            continue
        actions = [_shown(action) for action in actions_by_plugin[plugin]]
        for action in value:
            if _normal(action) not in map(_normal, actions):
                yield f'{key}.{action}', (
                    f'names no action of the plugin {_shown(plugin)}.'
                    + did_you_mean(action, actions))


def executor_label(mapping, plugin_id, action_id):
    """The label of the executor that `plugin_id`'s `action_id` runs on."""
    plugin, action = _normal(plugin_id), _normal(action_id)
    flat = None
    for name, value in (mapping or {}).items():
        if isinstance(value, dict):
            if _normal(name) == plugin:
                for action_name, label in value.items():
                    if _normal(action_name) == action:
                        return label
        elif _normal(name) == action:
            flat = value
    return flat or 'default'


def _normal(name):
    return name.replace('-', '_')


def _shown(name):
    """A plugin or action name as the command line writes it."""
    return name.replace('_', '-')
