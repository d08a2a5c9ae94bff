"""What Parsl accepts, read from Parsl itself: the classes a config may name
and each class's keyword arguments with their type hints and defaults.

Parsl is imported here only when a config is built, never when this module
is imported.
"""
import difflib
import functools
import importlib
import importlib.util
import inspect
import pkgutil
import typing
from typing import NamedTuple

from .errors import ConfigError

# The families of classes a config file may name in `class = "..."`: the
# module whose `__all__` lists them, the base class Parsl gives the family
# (module, name) and what messages call it. Read from the installed Parsl: a
# module it lacks is skipped (parsl.channels exists in Parsl 2024.10.07 and
# is gone from later releases). Staging classes are found apart, in the
# modules of parsl.data_provider, which has no `__all__`.
_FAMILIES = (
    ('parsl.executors', 'parsl.executors.base', 'ParslExecutor', 'executor'),
    ('parsl.providers', 'parsl.providers.base', 'ExecutionProvider',
     'provider'),
    ('parsl.launchers', 'parsl.launchers.base', 'Launcher', 'launcher'),
    ('parsl.channels', 'parsl.channels.base', 'Channel', 'channel'),
    ('parsl.monitoring', 'parsl.monitoring.monitoring', 'MonitoringHub',
     'monitoring'),
)
_STAGING = ('parsl.data_provider', 'parsl.data_provider.staging', 'Staging',
            'data staging')

EMPTY = inspect.Parameter.empty


class Param(NamedTuple):
    """One keyword argument of a Parsl class."""
    name: str
    hint: object    # a typing hint, or EMPTY when Parsl gives none
    default: object


def has_module(name):
    """Whether the installed Parsl has the module `name`."""
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # its parent package is missing
        return False


@functools.lru_cache(maxsize=None)
def _families():
    """(module name, base class, word) of each family the installed Parsl
    has, the staging family last."""
    found = []
    for module_name, base_module, base_name, word in _FAMILIES + (_STAGING,):
        if has_module(module_name):
            base = getattr(importlib.import_module(base_module), base_name)
            found.append((module_name, base, word))
    return tuple(found)


def base_classes():
    """The base class of each family of Parsl classes a config may name:
    ParslExecutor, ExecutionProvider, Launcher, ... as the installed Parsl
    has them."""
    return tuple(base for _, base, _ in _families())


@functools.lru_cache(maxsize=None)
def parsl_classes():
    """Name -> class of every Parsl class a config file may name."""
    classes, staging = {}, None
    for module_name, base, _ in _families():
        if module_name == _STAGING[0]:
            staging = base
            continue
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and not inspect.isabstract(obj):
                classes[name] = obj
    import parsl.data_provider
    for info in pkgutil.iter_modules(parsl.data_provider.__path__):
        module = importlib.import_module(f'parsl.data_provider.{info.name}')
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, staging)
                    and obj is not staging):
                classes.setdefault(name, obj)
    return classes


def kind(cls):
    """'executor', 'provider', ... for a Parsl class or base class."""
    for module_name, base, word in _families():
        if issubclass(cls, base) or cls.__module__.startswith(module_name):
            return word
    return cls.__name__


def _a(words):
    return ('an ' if words[0] in 'aeiou' else 'a ') + words


def close_matches(word, choices):
    """Up to three of `choices` that look like `word`, ignoring case."""
    by_lower = {choice.lower(): choice for choice in choices}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=3,
                                      cutoff=0.6)
    return [by_lower[match] for match in found]


def did_you_mean(word, choices):
    """' Did you mean "a" or "b"?' or '' when nothing is close."""
    matches = close_matches(word, choices)
    if not matches:
        return ''
    return ' Did you mean ' + ' or '.join(f'"{m}"' for m in matches) + '?'


def resolve_class(name, key, base=None):
    """The Parsl class called `name`, which must be a `base` if one is
    given; a ConfigError with close matches otherwise."""
    classes = parsl_classes()
    allowed = {n: c for n, c in classes.items()
               if base is None or issubclass(c, base)}
    if name in allowed:
        return allowed[name]
    wanted = f'{kind(base)} class' if base is not None else 'Parsl class'
    if name in classes:
        problem = (f'"{name}" is {_a(kind(classes[name]))} class, but'
                   f' {_a(wanted)} is needed here.')
    else:
        problem = f'Parsl has no class "{name}".{did_you_mean(name, allowed)}'
    raise ConfigError(
        f'{problem} Write one of: {", ".join(sorted(allowed))} (names are'
        ' case-sensitive).', key=key)


@functools.lru_cache(maxsize=None)
def parameters(cls):
    """(name -> Param of `cls`'s keyword arguments, whether it takes any
    other keyword too)."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # unresolvable annotations: check what we can
        hints = {}
    params, takes_any = {}, False
    for name, parameter in inspect.signature(cls).parameters.items():
        if parameter.kind is parameter.VAR_KEYWORD:
            takes_any = True
        elif parameter.kind is not parameter.VAR_POSITIONAL:
            annotation = parameter.annotation
            hint = hints.get(name, EMPTY if isinstance(annotation, str)
                             else annotation)
            params[name] = Param(name, hint, parameter.default)
    return params, takes_any
