"""The functions Parsl runs: one QIIME 2 action, in this process or another.

Both take the step's arguments with placeholders (see ``_arguments``) and the
outputs of the steps it depends on, which Parsl passes in once they are done.
Both time the step for the run report (``StepClock``): ``run_here`` on the
clock the session hands it, which the main process sees while the step runs;
``run_elsewhere`` on one it sends back with the step's output.
"""
from qiime2.sdk import Context, PluginManager

from q2_parallel.internals import qiime2_private
from q2_parallel.report.step_clock import StepClock

from ._arguments import StepOutput, attach
from ._cache import RunPool, entered
from .errors import ParallelError


def run_here(clock, action, parent_ctx, run_pool, args, kwargs,
             *dep_outputs):
    """Run ``action`` in a thread of this process, as a child of the
    pipeline's context, exactly as the serial framework would."""
    with clock:
        return _run_here(action, parent_ctx, run_pool, args, kwargs,
                         dep_outputs)


def _run_here(action, parent_ctx, run_pool, args, kwargs, dep_outputs):
    args, kwargs = attach(args, kwargs, dep_outputs, run_pool.load)
    with entered(run_pool.cache):
        if parent_ctx is None:
            factory = Context
        else:
            def factory():
                return Context(parent=parent_ctx)
        results = qiime2_private.call_with_context(action, factory, args,
                                                   kwargs)
    return StepOutput.of(results)


def run_elsewhere(plugin_id, action_id, cache_path, pool_name, args, kwargs,
                  *dep_outputs):
    """Run an action in a worker process: find the action and the run's
    cache by name, load inputs by UUID, leave outputs in the run's pool."""
    with StepClock() as clock:
        output = _run_elsewhere(plugin_id, action_id, cache_path, pool_name,
                                args, kwargs, dep_outputs)
    output.clock = clock
    return output


def _run_elsewhere(plugin_id, action_id, cache_path, pool_name, args, kwargs,
                   dep_outputs):
    plugins = PluginManager()  # loading plugins installs q2-parallel's hooks
    run_pool = RunPool.open(cache_path, pool_name)
    try:
        action = plugins.get_plugin(id=plugin_id).actions[action_id]
    except KeyError:
        raise ParallelError(
            f'The step {plugin_id}:{action_id} cannot run in a worker '
            'process: workers load only the plugins installed in their '
            'environment, and this one is not (was it defined in a notebook '
            'or script?). Map it to a ThreadPoolExecutor, or install the '
            'plugin where the workers run.') from None
    args, kwargs = attach(args, kwargs, dep_outputs, run_pool.load)
    try:
        with entered(run_pool.cache):
            results = qiime2_private.call_with_context(action, Context, args,
                                                       kwargs)
            return StepOutput([run_pool.keep(r) for r in results])
    finally:
        run_pool.release_process_pool()
