"""Parallel configuration files: TOML -> `parsl.Config` + action mapping,
which file is in effect, and the default file.

The engine and the CLI hook use only the names below. Parsl is imported
when a config is built, never by importing this package.

    config, mapping = get_config_from_file('my_config.toml')
    config, mapping, found = load_config()        # the spec's lookup
    label = executor_label(mapping, 'feature_table', 'summarize')
    config = normalised(python_config)   # strategy and run_dir read as
                                         # for files; a copy

Run `python -m q2_parallel.config --help` to see, check or write a file.
"""
from .capacity import warn_if_one_step_at_a_time
from .default import (default_config_text, default_run_dir,
                      usable_cpu_count, write_default_config)
from .encryption import warn_about_python_config
from .errors import ConfigError, warn_unknown_entries
from .lookup import FoundConfig, default_config, find_config, load_config
from .mapping import check_mapping, executor_label, unknown_entries
from .normalise import normalised
from .parse import get_config_from_dict, get_config_from_file

__all__ = ['ConfigError', 'FoundConfig', 'check_mapping', 'default_config',
           'default_config_text', 'default_run_dir', 'executor_label',
           'find_config', 'get_config_from_dict', 'get_config_from_file',
           'load_config', 'normalised', 'usable_cpu_count',
           'unknown_entries', 'warn_about_python_config',
           'warn_if_one_step_at_a_time', 'warn_unknown_entries',
           'write_default_config']
