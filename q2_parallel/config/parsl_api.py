"""What Parsl accepts, read from Parsl itself: the classes a config may name
and each class's keyword arguments with their type hints and defaults.

Parsl is imported here only when a config is built, never when this module
is imported.
"""
import difflib
import functools
import importlib
import inspect
import pkgutil
import typing
from typing import NamedTuple

from .errors import ConfigError

# Modules whose public classes a config file may name in `class = "..."`.
CLASS_MODULES = ('parsl.executors', 'parsl.providers', 'parsl.launchers',
                 'parsl.monitoring')

# What each family of classes is called in messages, by module prefix.
_KINDS = (('parsl.executors', 'executor'), ('parsl.providers', 'provider'),
          ('parsl.launchers', 'launcher'), ('parsl.monitoring', 'monitoring'),
          ('parsl.data_provider', 'data staging'))

EMPTY = inspect.Parameter.empty


class Param(NamedTuple):
    """One keyword argument of a Parsl class."""
    name: str
    hint: object    # a typing hint, or EMPTY when Parsl gives none
    default: object


@functools.lru_cache(maxsize=None)
def parsl_classes():
    """Name -> class of every Parsl class a config file may name."""
    classes = {}
    for module_name in CLASS_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if inspect.isclass(getattr(module, name)):
                classes[name] = getattr(module, name)
    import parsl.data_provider
    from parsl.data_provider.staging import Staging
    for info in pkgutil.iter_modules(parsl.data_provider.__path__):
        module = importlib.import_module(f'parsl.data_provider.{info.name}')
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, Staging)
                    and obj is not Staging):
                classes.setdefault(name, obj)
    return classes


def kind(cls):
    """'executor', 'provider', ... for a Parsl class or base class."""
    for prefix, word in _KINDS:
        if cls.__module__.startswith(prefix):
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
