"""A started parallel run environment: Parsl's DataFlowKernel, the
action-to-executor mapping and the run's pool of artifacts."""
import concurrent.futures
import os
import shutil
import threading
from collections import namedtuple

from qiime2.sdk import Pipeline

from ._apps import run_elsewhere, run_here
from ._arguments import StepOutput, detach, resolve
from ._cache import RunPool, entered
from q2_parallel.internals import parsl_private, qiime2_private
from q2_parallel.report.recording import RunRecord
from q2_parallel.report.step_clock import StepClock

from ._helper_path import PythonOnPath
from ._lost_blocks import (explain_lost_worker, fail_every_step_when_failing,
                           give_up_when_blocks_end)
from ._startup import (helpers_ignore_ctrl_c, new_dataflow_kernel,
                       run_folder, start_first_blocks)
from ._stopping import close_log_files, log_handlers, stop_after_failure
from .errors import mark_failed_step
from .proxies import ProxyResults, Step

StepCounts = namedtuple('StepCounts', 'done running waiting')


class Session:
    """Everything one ``ParallelConfig`` block starts, and stops it again."""

    def __init__(self, config, mapping, cache):
        from parsl.app.python import PythonApp

        from q2_parallel.config import executor_label

        self._executor_label = executor_label
        self._python_app = PythonApp
        self.mapping = mapping
        self.cache = cache
        self.record = RunRecord()
        self._apps = {}
        self._lock = threading.Lock()
        self._path = PythonOnPath()
        with helpers_ignore_ctrl_c():
            self.dfk = new_dataflow_kernel(config)
            try:
                fail_every_step_when_failing(self.dfk)
                give_up_when_blocks_end(self.dfk)
                start_first_blocks(self.dfk)
                self.record.parsl_ready(self.dfk)
            except BaseException:
                self._stop_starting()
                raise
        try:
            self.local_labels = set(
                parsl_private.thread_pool_executors(self.dfk))
            with entered(cache):
                self.run_pool = RunPool.create(cache)
        except BaseException:
            self._stop_starting()
            raise

    def _stop_starting(self):
        self.dfk.cleanup()
        self._path.restore()

    @property
    def run_dir(self):
        return self.dfk.run_dir

    def submit(self, action, args, kwargs, parent_ctx=None):
        """Start ``action`` and return stand-ins for its results at once.

        A Pipeline runs its own body in a thread of this process, submitting
        its steps in turn; any other action is one Parsl app on the executor
        the mapping gives it.
        """
        if isinstance(action, Pipeline):
            future = self._drive(action, args, kwargs, parent_ctx)
        else:
            future = self._launch(action, args, kwargs, parent_ctx)
        return ProxyResults(Step(action, future, self.run_pool.load))

    def _app(self, function, label):
        key = (function, label)
        with self._lock:
            if key not in self._apps:
                self._apps[key] = self._python_app(
                    function, data_flow_kernel=self.dfk, executors=[label])
            return self._apps[key]

    def _launch(self, action, args, kwargs, parent_ctx):
        label = self._executor_label(self.mapping, action.plugin_id,
                                     action.id)
        clock = None
        if label in self.local_labels:
            args, kwargs, deps = detach(args, kwargs)
            clock = StepClock()
            future = self._app(run_here, label)(
                clock, action, parent_ctx, self.run_pool, args, kwargs,
                *deps)
        else:
            with entered(self.cache):
                args, kwargs, deps = detach(args, kwargs,
                                            keep=self.run_pool.keep)
            future = self._app(run_elsewhere, label)(
                action.plugin_id, action.id, str(self.cache.path),
                self.run_pool.name, args, kwargs, *deps)
        name = f'{action.plugin_id}:{action.id}'
        future.add_done_callback(lambda f: _name_failure(f, name))
        self.record.add_step(name, label, future, clock)
        return future

    def _drive(self, action, args, kwargs, parent_ctx):
        from .context import ParallelContext

        future = concurrent.futures.Future()
        cache = self.cache if parent_ctx is None else parent_ctx.cache

        def body():
            future.set_running_or_notify_cancel()
            try:
                with entered(cache):
                    call_args, call_kwargs = resolve(args, kwargs)
                    results = qiime2_private.call_with_context(
                        action,
                        lambda: ParallelContext(self, parent=parent_ctx),
                        call_args, call_kwargs)
                    output = StepOutput.of(results)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(output)

        threading.Thread(target=body, daemon=True,
                         name=f'q2-parallel {action.plugin_id}:{action.id}'
                         ).start()
        return future

    def progress(self):
        """How many steps are done, running and waiting for their inputs."""
        states = [parsl_private.step_state(f)
                  for f in self.record.futures()]
        return StepCounts(states.count('done'), states.count('running'),
                          states.count('waiting'))

    def close(self, failed):
        """Stop executors and workers, drop the run's pool; keep Parsl's
        logs only when the run failed."""
        log_files = log_handlers(self.dfk.run_dir)
        try:
            if failed:
                stop_after_failure(self.dfk)
            self.dfk.cleanup()
            parsl_private.stop_result_threads(self.dfk)
        finally:
            for path in parsl_private.launcher_scripts_left(self.dfk):
                os.remove(path)
            close_log_files(log_files)
            self._path.restore()
            with entered(self.cache):
                self.run_pool.remove()
            if not failed:
                shutil.rmtree(run_folder(self.dfk), ignore_errors=True)


def _name_failure(future, step_name):
    if future.cancelled():
        return
    error = future.exception()
    if error is not None and not parsl_private.is_propagated_failure(error):
        mark_failed_step(error, step_name)
        explain_lost_worker(error)
