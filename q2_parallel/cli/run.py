"""Carry out `qiime <plugin> <pipeline> … --parallel` for the q2cli hook.

q2cli's own `ActionCommand.__call__` still builds the arguments, sends the
action's output to its log, reports the action's errors and saves the
results.  This module only hands it an action that runs through a
`ParallelConfig`, and adds what a parallel run needs around that: a config
error reported before anything starts, progress on a terminal, no partial
outputs after a failure, and a clean stop on Ctrl-C and on SIGTERM (what
`kill`, a batch system or a service manager sends to end a process).
"""
import atexit
import contextlib
import errno
import gc
import glob
import io
import os
import shutil
import signal
import sys
import tempfile
import threading

import click

from q2_parallel.engine.errors import (command_line_name,
                                       message_without_notes)
from q2_parallel.internals import q2cli_private, qiime2_private

from . import recycling
from .stop_signals import STOPS, StopSignals

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


def run_in_parallel(command, q2cli_call, kwargs, config_path,
                    report_path=None, recycle_pool=None, no_recycle=False,
                    use_cache=None):
    """Run `command` (a q2cli ActionCommand of a Pipeline) with `kwargs`
    through `q2cli_call` (q2cli's `ActionCommand.__call__`), its steps in
    parallel with the config in `config_path`, or the default one if None;
    write the run's report to `report_path` if given; finished steps kept
    in (and taken from) the recycle pool `recycle_pool` (default: one named
    after the Pipeline, removed after a success) unless `no_recycle`, in
    the cache at `use_cache` (default: QIIME 2's).
    """
    verbose = kwargs.get('verbose')
    action = parallel_config = None
    atexit.register(_no_collection_at_exit)
    _check_report_path(report_path)
    pipeline = q2cli_private.command_action(command)
    recycle = None if no_recycle else recycling.Recycling(
        recycle_pool or f'recycle_{pipeline.plugin_id}_{pipeline.id}',
        remove_on_success=recycle_pool is None)
    try:
        with contextlib.ExitStack() as stack:
            signals = stack.enter_context(StopSignals())
            try:
                with signals.held():
                    if use_cache is not None:
                        recycling.enter_cache(stack, use_cache)
                    parallel_config = _enter_parallel_config(
                        stack, config_path, verbose, report_path, recycle)
                terminal = stack.enter_context(
                    _terminal_stderr(quiet=verbose is False))
                action = _ParallelAction(pipeline, parallel_config,
                                         terminal)
                q2cli_private.run_instead(command, action)
                with _PartialOutputsRemoved(_output_paths(kwargs)), \
                        _SavedLinesHeld(action):
                    _call_reporting_save_errors(q2cli_call, command, kwargs,
                                                action, verbose)
                    signals.raise_if_swallowed()
                recycling.report(parallel_config, verbose)
            except tuple(STOPS) as stop:
                if action is not None:
                    action.remove_q2cli_log()
                _report_stop(*STOPS[type(stop)], parallel_config)
                raise  # leaving the ParallelConfig stops the executors
    except tuple(STOPS) as stop:
        exit_status = STOPS[type(stop)][1]
        if parallel_config is not None and not \
                parallel_config.session.threads_ended(EXIT_GRACE_SECONDS):
            _exit_now(exit_status, parallel_config.session)
        _ending.acquire()  # waits while the deadline is ending the process
        _ending_normally.set()
        click.get_current_context().exit(exit_status)


def _no_collection_at_exit():
    """Registered when the run starts, so it runs after the exit handlers
    registered since (QIIME 2's cache, the run's temporary files) and
    before those of the modules loaded earlier (logging, weakref
    finalizers), none of which needs the garbage collector.  It freezes
    the objects the process holds (``gc.freeze``), so that Python's own
    collections at exit skip them: with QIIME 2, Parsl and the run's
    records loaded they took 0.2 s, longer than the executors' shutdown.
    What is left to finalize is released as at any exit."""
    gc.freeze()


def _report_stop(what, exit_status, parallel_config):
    """Say what happens and what is kept (Parsl's logs, the report and the
    recycle pool, once the executors have started); from now on, ignore
    further Ctrl-C and SIGTERM and make sure the process ends soon,
    whatever the shutdown waits for."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    kept = ('' if parallel_config is None else
            " Parsl's logs of this run are kept in"
            f' {parallel_config.run_dir}' + _report_kept(parallel_config)
            + recycling.kept(parallel_config))
    click.echo(err=True)
    click.echo(q2cli_private.error_style(
        f'{what}: stopping every parallel step; no output is written.'
        + kept), err=True)
    session = None if parallel_config is None else parallel_config.session
    deadline = threading.Timer(EXIT_GRACE_SECONDS, _exit_now,
                               [exit_status, session, True])
    deadline.daemon = True
    deadline.start()


# Held by the one thread that ends a stopped run's process: the deadline's
# or the main thread's `_exit_now`, or the main thread on its way to a normal
# exit.  One of them ending the process while the other removes the
# temporary files whose finalizers it took leaves those files behind: the
# two `_exit_now`, 6 s after the stop and milliseconds apart, often did.
_ending = threading.Lock()
_ending_normally = threading.Event()


def _exit_now(exit_status, session, deadline=False):
    """End the process while steps still run in its threads (Python cannot
    stop a thread, and would wait for them at exit), with the programs they
    started and the temporary files QIIME 2 made for them, which only a
    normal exit would remove.  If another thread is ending the process,
    wait for it; the `deadline` waits at most EXIT_GRACE_SECONDS for a
    normal exit, which may hang."""
    while not _ending.acquire(timeout=EXIT_GRACE_SECONDS):
        if deadline and _ending_normally.is_set():
            break
    try:
        if session is not None:
            session.end_programs()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        qiime2_private.clean_up_as_at_exit()
    finally:
        os._exit(exit_status)


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


def _enter_parallel_config(stack, config_path, verbose, report_path,
                           recycle):
    """Enter the ParallelConfig for `config_path` on `stack`; report a bad
    config, or executors that fail to start, the way q2cli reports errors."""
    from q2_parallel.config import ConfigError, get_config_from_file
    from q2_parallel.engine import ParallelConfig
    from q2_parallel.internals import parsl_private
    parsl_private.import_parsl_unchecked()
    recycle = recycling.parallel_config_arguments(recycle)
    try:
        if config_path is None:
            parallel_config = ParallelConfig(report=report_path, **recycle)
        else:
            config, mapping = get_config_from_file(config_path)
            parallel_config = ParallelConfig(
                parallel_config=config, action_executor_mapping=mapping,
                report=report_path, **recycle)
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
                     + _report_kept(self._parallel_config)
                     + recycling.kept(self._parallel_config))
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


class _SavedLinesHeld:
    """q2cli prints 'Saved … to: …' as it saves each output; once the
    action has returned, hold what it prints until every output is saved,
    so that a failure or an interruption (which removes them all) does not
    follow lines saying that some were saved."""

    def __init__(self, action):
        self._action = action
        self._stdout = None
        self._held = io.StringIO()

    def __enter__(self):
        self._stdout = sys.stdout
        sys.stdout = self
        return self

    def write(self, text):
        target = self._held if self._action.returned else self._stdout
        return target.write(text)

    def __getattr__(self, name):
        return getattr(self._stdout, name)

    def __exit__(self, exc_type, exc, tb):
        sys.stdout = self._stdout
        if exc_type is None:
            self._stdout.write(self._held.getvalue())
            self._stdout.flush()
        return False


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
