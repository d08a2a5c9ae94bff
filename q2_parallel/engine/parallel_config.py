"""``ParallelConfig``: the context manager inside which ``.parallel()`` runs.

Written to the interface of QIIME 2 2023.5 and later
(``qiime2.sdk.parallel_config``), so code written for those releases works
on 2022.11 unchanged.
"""
import inspect
import threading

from q2_parallel.internals import parsl_private

from .errors import ParallelError, add_note

_active = threading.local()
_registry_lock = threading.Lock()
_entered = []


class ParallelConfig:
    """Start Parsl for the duration of a ``with`` block.

    Parameters
    ----------
    parallel_config : parsl.Config, optional
        The executors to use. Without one, the configuration file found by
        the lookup order of the documentation is used (and its mapping,
        unless ``action_executor_mapping`` is given).
    action_executor_mapping : dict, optional
        Action name (or ``{plugin: {action: label}}``) to executor label.
        Unmapped actions run on the executor labelled ``default``.
    report : str or os.PathLike, optional
        Write a report of the run to this HTML file when the block ends,
        and its facts as JSON beside it (``run.html`` -> ``run.json``):
        a timeline of every step and where the time went.  Written for
        runs that fail or are interrupted too.  Its folder must exist.
    recycle_pool : str, optional
        Keep each finished step's results in this named pool of QIIME 2's
        cache, and take them from there when the same step (same action,
        inputs and parameters) runs again: a run that failed or was
        interrupted, run again, redoes only what did not finish.  The pool
        is kept; ``python -m q2_parallel.kept`` lists and removes pools.
        Entering a pool (``with cache.create_pool(keys=[...],
        reuse=True):``) around ``.parallel()`` does the same, as in QIIME 2
        2023.5 and later.
    remove_recycle_pool : bool, optional
        Remove the recycle pool when the block ends without an error (unless
        another run uses it then); what ``qiime`` does with the pool it
        names after the Pipeline.
    """

    def __init__(self, parallel_config=None, action_executor_mapping=None,
                 report=None, recycle_pool=None, remove_recycle_pool=False):
        self.parallel_config = parallel_config
        self.action_executor_mapping = action_executor_mapping
        self.report = report
        self._report_paths = None
        self.recycle_pool = recycle_pool
        self.remove_recycle_pool = remove_recycle_pool
        self.session = None
        self.source = None

    def __repr__(self):
        report = '' if self.report is None else f', report={self.report!r}'
        recycling = ('' if self.recycle_pool is None else
                     f', recycle_pool={self.recycle_pool!r}, '
                     f'remove_recycle_pool={self.remove_recycle_pool!r}')
        return (f'ParallelConfig(parallel_config={self.parallel_config!r}, '
                f'action_executor_mapping={self.action_executor_mapping!r}'
                f'{report}{recycling})')

    def __enter__(self):
        from qiime2.core.cache import get_cache

        from q2_parallel.config import (check_mapping, load_config,
                                        normalised, unknown_entries,
                                        warn_about_python_config,
                                        warn_if_one_step_at_a_time,
                                        warn_unknown_entries)
        from q2_parallel.internals import qiime2_private
        from q2_parallel.report.files import report_paths
        from ._session import Session

        if getattr(_active, 'config', None) is not None:
            raise ParallelError(
                'A ParallelConfig block is already active in this thread; '
                'ParallelConfig blocks cannot be nested. Run the inner work '
                'inside the outer block instead.')
        self._report_paths = (None if self.report is None
                              else report_paths(self.report))
        config, mapping = self.parallel_config, self.action_executor_mapping
        if config is None:
            config, found_mapping, self.source = load_config()
            if mapping is None:
                mapping = found_mapping
        mapping = dict(mapping or {})
        check_mapping(mapping, [e.label for e in config.executors],
                      source='the action_executor_mapping of ParallelConfig')
        warn_unknown_entries(
            unknown_entries(mapping, qiime2_private.installed_actions()),
            self.source and self.source.path)
        reachable = _reachable_executors(config, mapping)
        warn_about_python_config(config, [e.label for e in reachable])
        warn_if_one_step_at_a_time(reachable,
                                   self.source and self.source.path)
        config = _fresh_copy(normalised(config), reachable)
        recycle = (None if self.recycle_pool is None
                   else (self.recycle_pool, self.remove_recycle_pool))
        self.session = Session(config, mapping, get_cache(), recycle)
        _active.config = self
        with _registry_lock:
            _entered.append(self)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        from q2_parallel.report.files import write_run_report

        _active.config = None
        with _registry_lock:
            _entered.remove(self)
        report_error = None
        try:
            if self._report_paths is not None:  # shows the run as it ended
                report_error = write_run_report(
                    self._report_paths, self.session.record, exc_type)
        finally:
            self.session.close(failed=exc_type is not None)
        if report_error is not None:
            report_error = ParallelError(
                f'The report of this run could not be written to '
                f'{self.report}: {type(report_error).__name__}: '
                f'{report_error}')
        if exc_value is not None:
            add_note(exc_value,
                     f'Parsl logs of this run: {self.session.run_dir}')
            if self._report_paths is not None:
                add_note(exc_value, str(report_error or 'Report of this run:'
                                        f' {self._report_paths[0]}'))
        elif report_error is not None:
            raise report_error

    @property
    def report_path(self):
        """The HTML file of this block's report (None without one, or
        before the block starts)."""
        return None if self._report_paths is None else self._report_paths[0]

    @property
    def run_dir(self):
        """The folder of Parsl's logs for this block's run (kept only when
        the run failed)."""
        return None if self.session is None else self.session.run_dir

    @property
    def recycled(self):
        """The steps of the last run taken from the recycle pool
        (``'reused'``) and those whose kept results had lost their data and
        were run again (``'recomputed'``): ``{how: ['plugin:action',
        ...]}``."""
        return self.session.recycled

    def progress(self):
        """``StepCounts(done, running, waiting)`` of the steps so far (of
        the last run, once the block has ended)."""
        return self.session.progress()


def current():
    """The ``ParallelConfig`` block that ``.parallel()`` should use."""
    config = getattr(_active, 'config', None)
    if config is not None:
        return config
    with _registry_lock:
        if _entered:
            return _entered[-1]
    raise ParallelError(
        '.parallel() must be called inside a `with ParallelConfig(...):` '
        'block (from q2_parallel import ParallelConfig), which says where '
        'the steps run.')


def _reachable_executors(config, mapping):
    """The executors a step can run on: ``default`` and those the mapping
    names.  Starting the others (the default config's HTEX when nothing is
    mapped to it) would only cost time and processes."""
    from q2_parallel.config.mapping import mapping_entries

    labels = {'default', *(label for _, label in mapping_entries(mapping))}
    return [e for e in config.executors if e.label in labels]


def _fresh_copy(config, executors):
    """Parsl executors run once: rebuild a Config, with ``executors``, from
    the arguments it was made with, so the same object can serve several
    ``with`` blocks, one after another.  Parsl's objects keep their
    constructor arguments as attributes of the same names (their ``repr``
    relies on it)."""
    try:
        return _rebuild(config, executors=_rebuild(executors))
    except Exception as error:
        raise ParallelError(
            f'This parsl.Config could not be copied for a new run ({error}). '
            'Build a new Config for each ParallelConfig block, or load it '
            'from a file.') from error


def _rebuild(value, **given):
    if parsl_private.is_parsl_object(value):
        parameters = inspect.signature(type(value).__init__).parameters
        return type(value)(**{
            name: given[name] if name in given
            else _rebuild(getattr(value, name))
            for name, parameter in parameters.items()
            if name != 'self' and hasattr(value, name)
            and parameter.kind not in (parameter.VAR_POSITIONAL,
                                       parameter.VAR_KEYWORD)})
    if isinstance(value, (list, tuple)):
        return type(value)(_rebuild(item) for item in value)
    if isinstance(value, dict):
        return {key: _rebuild(item) for key, item in value.items()}
    return value
