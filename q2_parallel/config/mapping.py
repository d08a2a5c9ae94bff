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
