"""The functions Parsl runs: one QIIME 2 action, in this process or another.

Both take the step's arguments with placeholders (see ``_arguments``) and the
outputs of the steps it depends on, which Parsl passes in once they are done.
Both time the step for the run report (``StepClock``): ``run_here`` on the
clock the session hands it, which the main process sees while the step runs;
``run_elsewhere`` on one it sends back with the step's output.
"""
import logging
import os
import signal
import threading

from qiime2.sdk import Context, PluginManager

from q2_parallel.internals import qiime2_private
from q2_parallel.report.step_clock import StepClock

from ._arguments import StepOutput, attach
from ._cache import RunPool, entered
from ._printed import PrintedOutput, keep_with_failure
from ._recycle import RecyclePool, run_or_reuse
from ._stopping import ProgramsStarted
from .errors import ParallelError


def run_here(clock, action, parent_ctx, run_pool, recycle, args, kwargs,
             *dep_outputs):
    """Run ``action`` in a thread of this process, as a child of the
    pipeline's context, exactly as the serial framework would (unless the
    ``recycle`` pool, if any, has its results)."""
    with clock:
        return _run_here(action, parent_ctx, run_pool, recycle, args,
                         kwargs, dep_outputs)


def _run_here(action, parent_ctx, run_pool, recycle, args, kwargs,
              dep_outputs):
    args, kwargs = attach(args, kwargs, dep_outputs, run_pool.load)
    with entered(run_pool.cache):
        if parent_ctx is None:
            factory = Context
        else:
            def factory():
                return Context(parent=parent_ctx)
        results, how = run_or_reuse(
            recycle, action, args, kwargs,
            lambda: qiime2_private.call_with_context(action, factory, args,
                                                     kwargs))
    return StepOutput.of(results, how)


def run_elsewhere(plugin_id, action_id, cache_path, pool_name, recycle_name,
                  args, kwargs, *dep_outputs):
    """Run an action in a worker process: find the action and the run's
    cache by name, load inputs by UUID, leave outputs in the run's pool
    (and in the recycle pool named ``recycle_name``, if any, which may
    have them already)."""
    with StepClock() as clock:
        output = _run_elsewhere(plugin_id, action_id, cache_path, pool_name,
                                recycle_name, args, kwargs, dep_outputs)
    output.clock = clock
    return output


def _run_elsewhere(plugin_id, action_id, cache_path, pool_name, recycle_name,
                   args, kwargs, dep_outputs):
    plugins = PluginManager()  # loading plugins installs q2-parallel's hooks
    _clean_up_when_stopped()
    run_pool = RunPool.open(cache_path, pool_name)
    recycle = (None if recycle_name is None
               else RecyclePool.open(run_pool.cache, recycle_name))
    try:
        action = plugins.get_plugin(id=plugin_id).actions[action_id]
    except KeyError:
        raise ParallelError(
            f'The step {plugin_id}:{action_id} cannot run in this worker '
            'process: workers on other hosts load only the plugins installed '
            'in their environment, and this one is not (was it defined in a '
            'notebook or script?). Map it to a ThreadPoolExecutor or to a '
            'HighThroughputExecutor on this host, or install the plugin '
            'where the workers run.') from None
    args, kwargs = attach(args, kwargs, dep_outputs, run_pool.load)
    printed = PrintedOutput()

    def run():
        with printed:
            return qiime2_private.call_with_context(action, Context, args,
                                                    kwargs)
    try:
        with entered(run_pool.cache):
            results, how = run_or_reuse(recycle, action, args, kwargs, run)
            return StepOutput([run_pool.keep(r) for r in results],
                              printed=printed.text, how=how)
    except Exception as error:
        keep_with_failure(error, printed.text)
        raise
    finally:
        run_pool.release_process_pool()


def _clean_up_when_stopped():
    """In a worker process, once: on SIGTERM (how Parsl ends workers when
    a run stops), end the programs the step started and remove what QIIME 2
    would at a normal exit, then exit.  Parsl's workers end without Python's
    exit handlers, so the step's temporary files and the worker's pool in
    the cache would stay behind."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is _stopped):
        return
    signal.signal(signal.SIGTERM, _stopped)


def _stopped(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ProgramsStarted(before=()).end()
    qiime2_private.clean_up_as_at_exit()
    logging.shutdown()
    os._exit(128 + signum)  # now: Python's own exit would first wait for
    # Parsl's queue threads, and the run waits for this process to end
