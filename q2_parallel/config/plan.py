"""Turn the `[parsl]` table of a config into a checked plan of Parsl
objects, then build them.

The whole table is checked before any object is built, so a bad file
neither starts nor half-builds anything. This is also where the spec's
files meet the installed Parsl (any release from 2024.10.07 on): old
keyword names are translated, removed ones are explained, a
HighThroughputExecutor gets a safe address, and the strategy and run
directory are read as `normalise` says.

    plan = plan_parsl_table(document['parsl'])   # checked, nothing built
    config = plan.build()                        # the parsl.Config
"""
from .encryption import apply_encryption_rule
from .errors import ConfigError
from .mapping import TABLE as MAPPING_TABLE
from .normalise import file_run_dir, strategy_name
from .parsl_api import (EMPTY, did_you_mean, has_module, parameters,
                        resolve_class)
from .values import convert

# Keywords the spec's files use that Parsl renamed: old -> current. Applied
# to classes that have the current name (HTEX's max_workers became
# max_workers_per_node; where Parsl still takes both, it reads the old one
# as the new one, so translating changes nothing but Parsl's warning).
_RENAMED = {'max_workers': 'max_workers_per_node'}

# Keywords that name a module the installed Parsl may no longer have:
# keyword -> (module, what to do instead). Only when that module is gone is
# the keyword explained as removed; otherwise it is checked like any other.
_REMOVED = {
    'channel': ('parsl.channels', (
        'The installed Parsl has no channels (older releases had them):'
        ' providers now always run their commands'
        ' (sbatch, ...) on the machine where QIIME 2 runs. Delete this table'
        ' and run qiime on a machine that can submit jobs to the cluster'
        ' itself, usually its login node.')),
}

_EXECUTORS_KEY = 'executors'


class ObjectPlan:
    """A Parsl object to build: its class, its checked keyword arguments
    (which may hold further plans) and the key path it came from. `repr`
    reads like the constructor call."""

    def __init__(self, cls, kwargs, key):
        self.cls, self.kwargs, self.key = cls, kwargs, key

    def build(self):
        kwargs = {name: _build(value) for name, value in self.kwargs.items()}
        try:
            return self.cls(**kwargs)
        except Exception as err:  # Parsl's own checks, missing modules
            reason = ' '.join(str(err).split())
            raise ConfigError(
                f'Parsl could not build {self.cls.__name__} from this table:'
                f' {reason} Fix what Parsl names, or remove the table.',
                key=self.key) from err

    def __repr__(self):
        arguments = ', '.join(f'{name}={value!r}'
                              for name, value in self.kwargs.items())
        return f'{self.cls.__name__}({arguments})'


class ConfigPlan(ObjectPlan):
    """The plan of a parsl.Config."""

    @property
    def executors(self):
        return self.kwargs[_EXECUTORS_KEY]

    @property
    def labels(self):
        return [executor.kwargs['label'] for executor in self.executors]

    @property
    def settings(self):
        """The Config keywords other than the executors."""
        return {name: value for name, value in self.kwargs.items()
                if name != _EXECUTORS_KEY}


def plan_parsl_table(table):
    """The ConfigPlan of a plain `[parsl]` table, or None when it has no
    executors (a file that only maps actions)."""
    table = {k: v for k, v in table.items() if k != MAPPING_TABLE}
    executors = table.pop(_EXECUTORS_KEY, None)
    if executors is None:
        if table:
            raise ConfigError(
                f'has Parsl settings ({", ".join(table)}) but no'
                ' [[parsl.executors]]. Add executors, one of them labelled'
                ' "default", or remove these settings.', key='parsl')
        return None
    from parsl.config import Config
    kwargs = {_EXECUTORS_KEY: _plan_executors(executors)}
    kwargs.update(_plan_kwargs(Config, table, 'parsl', {_EXECUTORS_KEY}))
    if 'strategy' in kwargs:
        kwargs['strategy'] = _checked_strategy(kwargs['strategy'])
    kwargs['run_dir'] = file_run_dir(kwargs.get('run_dir'))
    return ConfigPlan(Config, kwargs, 'parsl')


def plan_class_table(table, key, base=None):
    """The plan of one table naming its `class` (which must be a `base`)."""
    table = dict(table)
    name = table.pop('class', None)
    if not isinstance(name, str):
        raise ConfigError(
            'is missing or not a string: every table that describes a Parsl'
            ' object names its class, e.g. class = "LocalProvider".',
            key=f'{key}.class')
    cls = resolve_class(name, f'{key}.class', base)
    kwargs = _plan_kwargs(cls, table, key)
    _apply_address_rule(cls, kwargs, key)
    apply_encryption_rule(cls, kwargs)
    return ObjectPlan(cls, kwargs, key)


def _build(value):
    if isinstance(value, ObjectPlan):
        return value.build()
    if isinstance(value, (list, tuple)):
        return type(value)(_build(item) for item in value)
    return value


def _plan_executors(entries):
    key = f'parsl.{_EXECUTORS_KEY}'
    if isinstance(entries, dict):
        raise ConfigError(
            'is a single table: write each executor as [[parsl.executors]]'
            ' (double brackets), which makes a list of them.', key=key)
    if not isinstance(entries, list) or not entries:
        raise ConfigError(
            'must list executors, each a table starting with a line'
            ' [[parsl.executors]], one of them labelled "default".', key=key)
    from parsl.executors.base import ParslExecutor
    plans, owners = [], {}
    for index, entry in enumerate(entries):
        entry_key = f'{key}[{index}]'
        if not isinstance(entry, dict):
            raise ConfigError('must be a table starting with a line'
                              ' [[parsl.executors]].', key=entry_key)
        plan = plan_class_table(entry, entry_key, ParslExecutor)
        label = plan.kwargs.get('label')
        if label is None:
            raise ConfigError(
                'is missing: give each executor a label, e.g. label ='
                ' "default"; actions are mapped to executors by label.',
                key=f'{entry_key}.label')
        if label in owners:
            raise ConfigError(
                f'"{label}" is also the label of {owners[label]}: each'
                ' executor needs a label of its own.',
                key=f'{entry_key}.label')
        owners[label] = entry_key
        plans.append(plan)
    if 'default' not in owners:
        raise ConfigError(
            'has no executor labelled "default" (labels: '
            f'{", ".join(owners)}). QIIME 2 runs every action the mapping'
            ' does not name on "default": label one executor "default".',
            key=key)
    return plans


def _plan_kwargs(cls, table, key, reserved=()):
    """Checked keyword arguments of `cls` from a table's keys."""
    params, takes_any = parameters(cls)
    accepted = [name for name in params if name not in reserved]
    kwargs, written_as = {}, {}
    for written, value in table.items():
        value_key = f'{key}.{written}'
        _check_not_removed(written, params, takes_any, value_key)
        name = _current_name(written, params)
        if name in written_as:
            raise ConfigError(
                f'{written_as[name]} and {written} are both given, but they'
                f' are one setting (Parsl renamed it to {name}): keep only'
                f' {name}.', key=value_key)
        written_as[name] = written
        if (name not in params and not takes_any) or name in reserved:
            raise ConfigError(
                f'{cls.__name__} has no keyword "{written}".'
                f'{did_you_mean(written, accepted)} It accepts:'
                f' {", ".join(accepted)}.', key=value_key)
        kwargs[name] = convert(value, params.get(name), value_key,
                               plan_class_table)
    missing = [name for name, param in params.items()
               if param.default is EMPTY and name not in kwargs]
    if missing:
        raise ConfigError(
            f'{cls.__name__} needs {", ".join(missing)}, which this table'
            ' does not give: add them.', key=key)
    return kwargs


def _check_not_removed(written, params, takes_any, key):
    if written not in _REMOVED or written in params or takes_any:
        return
    module, instead = _REMOVED[written]
    if not has_module(module):
        raise ConfigError(instead, key=key)


def _current_name(written, params):
    current = _RENAMED.get(written)
    return current if current in params else written


def _apply_address_rule(cls, kwargs, key):
    """A HighThroughputExecutor left without an address would have Parsl
    ask a public web service for one: use loopback for local workers, and
    make a cluster's config say which address its nodes can reach."""
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider
    if not issubclass(cls, HighThroughputExecutor) \
            or kwargs.get('address') is not None:
        return
    provider = kwargs.get('provider')
    if provider is None or issubclass(provider.cls, LocalProvider):
        kwargs['address'] = '127.0.0.1'
        return
    raise ConfigError(
        f'address is not set, and this {cls.__name__}\'s workers start'
        ' through'
        f' {provider.cls.__name__} on other machines that cannot reach'
        ' 127.0.0.1 here (left unset, Parsl would ask a public web service'
        ' for this machine\'s address). Set address to the name or IP'
        ' address of this machine as the compute nodes reach it; a cluster'
        ' whose only node is this machine may use address = "127.0.0.1".',
        key=f'{key}.address')


def _checked_strategy(strategy):
    """Parsl's name for a scaling strategy; "None" means Parsl's 'none'
    (its literal None is deprecated)."""
    from parsl.jobs.strategy import Strategy
    known = [name for name in Strategy(strategy='none', max_idletime=0)
             .strategies if name is not None]
    strategy = strategy_name(strategy)
    if strategy not in known:
        raise ConfigError(
            f'is "{strategy}", which Parsl does not know. Use one of:'
            f' "None" (start init_blocks and never scale), '
            + ', '.join(f'"{name}"' for name in known if name != 'none')
            + '.', key='parsl.strategy')
    return strategy
