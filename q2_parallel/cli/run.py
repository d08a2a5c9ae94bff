"""Carry out `qiime <plugin> <pipeline> … --parallel` for the q2cli hook.

q2cli's own `ActionCommand.__call__` still builds the arguments, sends the
action's output to its log, reports the action's errors and saves the
results.  This module only hands it an action that runs through a
`ParallelConfig`, and adds what a parallel run needs around that: a config
error reported before anything starts, progress on a terminal, no partial
outputs after a failure, and a clean stop on Ctrl-C and on SIGTERM (what
`kill`, a batch system or a service manager sends to end a process).
"""
import contextlib
import errno
import glob
import os
import shutil
import signal
import tempfile
import threading

import click

from q2_parallel.engine.errors import message_without_notes
from q2_parallel.internals import q2cli_private

INTERRUPTED_EXIT_STATUS = 130
TERMINATED_EXIT_STATUS = 143  # 128 + SIGTERM, as shells report it
# After Ctrl-C, how long the executors' shutdown and the normal exit may
# wait for steps still running in threads before the process ends anyway.
EXIT_GRACE_SECONDS = 6
CONFIG_ERROR_HEADER = ('Nothing was run because of a parallel configuration '
                       'error:')
START_ERROR_HEADER = 'The parallel executors could not be started:'
SAVE_ERROR_HEADER = 'The outputs could not be saved, so none was kept:'
REPORT_ERROR_HEADER = 'The --parallel-report path cannot be used:'
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


class ParallelRunError(Exception):
    """A parallel run or the saving of its outputs failed; the original
    error is the cause."""


class _Terminated(BaseException):
    """SIGTERM arrived during the run; like KeyboardInterrupt, it is not an
    Exception, so q2cli does not report it as the plugin's error."""


# How each way of stopping a run is reported, and its exit status.
_STOPS = {
    KeyboardInterrupt: ('Interrupted', INTERRUPTED_EXIT_STATUS),
    _Terminated: ('Terminated', TERMINATED_EXIT_STATUS),
}


def run_in_parallel(command, q2cli_call, kwargs, config_path,
                    report_path=None):
    """Run `command` (a q2cli ActionCommand of a Pipeline) with `kwargs`
    through `q2cli_call` (q2cli's `ActionCommand.__call__`), its steps in
    parallel with the config in `config_path`, or the default one if None;
    write the run's report to `report_path` if given.
    """
    verbose = kwargs.get('verbose')
    action = parallel_config = None
    _check_report_path(report_path)
    try:
        with contextlib.ExitStack() as stack:
            sigterm = stack.enter_context(_SigtermStopsTheRun())
            try:
                with sigterm.held():
                    parallel_config = _enter_parallel_config(
                        stack, config_path, report_path, verbose)
                terminal = stack.enter_context(
                    _terminal_stderr(quiet=verbose is False))
                action = _ParallelAction(
                    q2cli_private.command_action(command), parallel_config,
                    terminal)
                q2cli_private.run_instead(command, action)
                with _PartialOutputsRemoved(_output_paths(kwargs)):
                    _call_reporting_save_errors(q2cli_call, command, kwargs,
                                                action, verbose)
            except tuple(_STOPS) as stop:
                if action is not None:
                    action.remove_q2cli_log()
                _report_stop(*_STOPS[type(stop)], parallel_config)
                raise  # leaving the ParallelConfig stops the executors
    except tuple(_STOPS) as stop:
        click.get_current_context().exit(_STOPS[type(stop)][1])


def _report_stop(what, exit_status, parallel_config):
    """Say what happens and what is kept (Parsl's logs and the report,
    once the executors have started), and make sure the process ends soon:
    Python cannot stop a step running in a thread, and waits for it when
    the executors shut down and again at exit."""
    kept = ('' if parallel_config is None else
            " Parsl's logs of this run are kept in"
            f' {parallel_config.run_dir}' + _report_kept(parallel_config))
    click.echo(err=True)
    click.echo(q2cli_private.error_style(
        f'{what}: stopping every parallel step; no output is written.'
        + kept), err=True)
    deadline = threading.Timer(EXIT_GRACE_SECONDS, os._exit, [exit_status])
    deadline.daemon = True
    deadline.start()


class _SigtermStopsTheRun:
    """While the run lasts, SIGTERM raises `_Terminated` in the main thread,
    so the run stops as on Ctrl-C: executors and workers stopped, partial
    outputs removed.  Python's default would end `qiime` at once and leave
    HTEX's workers running.  A SIGTERM while the executors start is held
    until they have (Parsl half-started cannot be stopped cleanly), and
    later ones are ignored while the run stops.  q2cli runs commands in the
    main thread, the only one that may set signal handlers."""

    def __init__(self):
        self._holding = False
        self._pending = False
        self._stopping = False
        self._previous = None

    def __enter__(self):
        self._previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        return self

    def __exit__(self, *exc_info):
        signal.signal(signal.SIGTERM, self._previous)
        return False

    def _on_sigterm(self, signum, frame):
        if self._stopping:
            return
        if self._holding:
            self._pending = True
            return
        self._stop()

    def _stop(self):
        self._stopping = True
        raise _Terminated()

    @contextlib.contextmanager
    def held(self):
        """Hold a SIGTERM until the block ends."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            if self._pending:
                self._stop()


def _call_reporting_save_errors(q2cli_call, command, kwargs, action,
                                verbose):
    """q2cli reports the errors of the action it runs, but not those of
    saving its outputs (a file that cannot be written, a full disk)."""
    try:
        q2cli_call(command, **kwargs)
    except click.exceptions.Exit:
        raise
    except Exception as error:
        if not action.returned:
            raise
        disk_full = _full_disk(error)
        if disk_full:
            folders = sorted({os.path.dirname(os.path.abspath(path))
                              for path in _output_paths(kwargs)})
            error = ParallelRunError(
                f'{disk_full}\nThe disk holding {", ".join(folders)} is '
                'full: free space there, or save the outputs on another '
                'disk.')
        q2cli_private.exit_with_error(
            error, header=SAVE_ERROR_HEADER,
            traceback='stderr' if verbose else None)


def _full_disk(error):
    """What says that a disk (or the user's quota on it) is full in
    `error`, or an error that led to it; None if nothing does.  A failed
    copy of a folder (`shutil.Error`) lists its failures as text only."""
    seen = set()
    while error is not None and id(error) not in seen:  # chains can loop
        if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
            return str(error)
        if isinstance(error, shutil.Error) and error.args:
            for *_, why in error.args[0]:
                if any(os.strerror(n) in str(why) for n in DISK_FULL_ERRNOS):
                    return str(why)
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _report_kept(parallel_config):
    """The sentence naming the run's report, if it has one."""
    if parallel_config.report_path is None:
        return ''
    return f'; its report is kept in {parallel_config.report_path}'


def _check_report_path(report_path):
    """Report a report path that cannot be written before anything
    starts, the way q2cli reports errors."""
    if report_path is None:
        return
    from q2_parallel.engine import ParallelError
    from q2_parallel.report.files import report_paths
    try:
        report_paths(report_path)
    except ParallelError as error:
        q2cli_private.exit_with_error(error, header=REPORT_ERROR_HEADER,
                                      traceback=None)


def _enter_parallel_config(stack, config_path, report_path, verbose):
    """Enter the ParallelConfig for `config_path` on `stack`; report a bad
    config, or executors that fail to start, the way q2cli reports errors."""
    from q2_parallel.config import ConfigError, get_config_from_file
    from q2_parallel.engine import ParallelConfig
    try:
        if config_path is None:
            parallel_config = ParallelConfig(report=report_path)
        else:
            config, mapping = get_config_from_file(config_path)
            parallel_config = ParallelConfig(
                parallel_config=config, action_executor_mapping=mapping,
                report=report_path)
        return stack.enter_context(parallel_config)
    except ConfigError as error:
        q2cli_private.exit_with_error(error, header=CONFIG_ERROR_HEADER,
                                      traceback=None)
    except Exception as error:
        q2cli_private.exit_with_error(
            error, header=START_ERROR_HEADER,
            traceback='stderr' if verbose else None)


@contextlib.contextmanager
def _terminal_stderr(quiet):
    """A stream on the real stderr if it is a terminal and --quiet was not
    given, else None.  It is a copy of the file descriptor because q2cli
    points descriptor 2 at its log while the action runs."""
    if quiet or not os.isatty(2):
        yield None
        return
    with open(os.dup(2), 'w', encoding='utf-8') as terminal:
        yield terminal


class _ParallelAction:
    """Stands in for the Pipeline q2cli calls: runs it with `.parallel()`
    and waits for its results, showing progress; everything else is the
    Pipeline's own."""

    def __init__(self, pipeline, parallel_config, terminal):
        self._pipeline = pipeline
        self._parallel_config = parallel_config
        self._terminal = terminal
        self._q2cli_log = None
        self.returned = False

    def __getattr__(self, name):
        return getattr(self._pipeline, name)

    def __call__(self, **arguments):
        from q2_parallel.cli.progress import ProgressReporter
        # Descriptor 2 is q2cli's log file now, unless --verbose was given.
        self._q2cli_log = os.fstat(2)
        future = self._pipeline.parallel(**arguments)
        with ProgressReporter(self._parallel_config.progress, self._terminal):
            try:
                results = future.result()
            except Exception as error:
                explained = self._explained(error)
                if explained is None:
                    raise
                raise explained from error
        self.returned = True
        return results

    def _explained(self, error):
        """`error` with the step that raised it, the engine's notes on it,
        where a full disk is (the steps write their results to QIIME 2's
        cache, under $TMPDIR) and where Parsl's logs are; None if there is
        nothing to add."""
        step = getattr(error, 'parallel_step', None)
        disk_full = _full_disk(error)
        if step is None and not disk_full:
            return None
        lines = [disk_full or
                 f'{type(error).__name__}: {message_without_notes(error)}']
        # The engine's notes: what the failure means and what helps (the
        # step line below already says which step failed).
        lines += [note for note in getattr(error, '__notes__', [])
                  if step is None or step not in note]
        if step is not None:
            lines.insert(0, f'The step {command_line_name(step)} of this'
                            ' pipeline failed, so no output was written.')
        if disk_full:
            cache = self._parallel_config.session.cache.path
            lines.append(
                f'The disk holding QIIME 2\'s cache, {cache}, where the '
                'steps write their results, is full: free space there, or '
                'set TMPDIR to a folder on a disk with more room (the cache '
                'is $TMPDIR/qiime2/$USER) and run again.')
        lines.append("Parsl's logs of this run are kept in "
                     f'{self._parallel_config.run_dir}'
                     + _report_kept(self._parallel_config))
        return ParallelRunError('\n'.join(lines))

    def remove_q2cli_log(self):
        """Remove the log q2cli opened for this run (it keeps it when the
        action is interrupted)."""
        if self._q2cli_log is None:
            return
        pattern = os.path.join(tempfile.gettempdir(),
                               q2cli_private.ERROR_LOG_PATTERN)
        for path in glob.glob(pattern):
            if os.path.samestat(os.stat(path), self._q2cli_log):
                os.remove(path)


def _output_paths(kwargs):
    """Where q2cli will save the outputs: the `--o-*` paths (with or without
    the extension it adds), else `--output-dir`."""
    output_dir = kwargs.get('output_dir')
    if output_dir is not None:
        yield output_dir
    for name, value in kwargs.items():
        if name.startswith('o_') and value is not None:
            yield from (value, value + '.qza', value + '.qzv')


class _PartialOutputsRemoved:
    """On a failure or interruption, removes every output path that did not
    exist before: q2cli saves outputs one by one and would leave the first
    ones behind if a later one failed."""

    def __init__(self, paths):
        self.paths = list(paths)
        self._existing = set()

    def __enter__(self):
        self._existing = {p for p in self.paths if os.path.lexists(p)}
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            return False
        for path in self.paths:
            if path in self._existing or not os.path.lexists(path):
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        return False


def command_line_name(step):
    """'plugin-name action-name', as `qiime` spells them, for a step named
    'plugin_id:action_id'."""
    return ' '.join(part.replace('_', '-') for part in step.split(':', 1))
