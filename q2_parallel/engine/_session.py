"""A started parallel run environment: Parsl's DataFlowKernel, the
action-to-executor mapping and the run's pool of artifacts."""
import concurrent.futures
import os
import shutil
import threading
import time
from collections import namedtuple

from qiime2.sdk import Pipeline

from ._apps import run_elsewhere, run_here
from ._arguments import StepOutput, detach, resolve
from ._cache import RunPool, entered
from q2_parallel.internals import parsl_private, qiime2_private
from q2_parallel.report.recording import RunRecord
from q2_parallel.report.step_clock import StepClock

from ._fork_server import WorkerForkServer
from ._helper_path import PythonOnPath
from ._lost_blocks import (InterchangeWatch, explain_lost_worker,
                           fail_every_step_when_failing,
                           give_up_when_blocks_end)
from ._printed import show as show_printed
from ._recycle import RecyclePool
from ._startup import (ctrl_c_held, new_dataflow_kernel, run_folder,
                       start_first_blocks)
from ._stopping import (BlockProcessGroups, ProgramsStarted,
                        close_log_files, log_handlers,
                        remove_dead_multiprocessing_folders,
                        stop_after_failure)
from ._watchdog import Watchdog
from .errors import ParallelError, mark_failed_step
from .proxies import ProxyResults, Step

StepCounts = namedtuple('StepCounts', 'done running waiting')


class Session:
    """Everything one ``ParallelConfig`` block starts, and stops it again."""

    def __init__(self, config, mapping, cache, recycle=None):
        """``recycle``: ``(name, remove_on_success)`` of the pool that keeps
        finished steps' results for a rerun, or None."""
        from parsl.app.python import PythonApp

        from q2_parallel.config import executor_label

        self._executor_label = executor_label
        self._python_app = PythonApp
        self.mapping = mapping
        self.cache = cache
        self.record = RunRecord()
        self.recycled = {'reused': [], 'recomputed': []}
        self._apps = {}
        self._lock = threading.Lock()
        self._path = PythonOnPath()
        self._threads = []
        self._programs = ProgramsStarted()
        self._watchdog = Watchdog()  # before anything else is started
        self._fork_server = None
        self._interchanges = None
        self._started = time.time()
        self.dfk = None
        self.recycle = None
        try:
            parsl_private.add_block_environment(config,
                                                self._watchdog.environment)
            with ctrl_c_held():
                if parsl_private.local_worker_pools(config):
                    self._fork_server = _fork_server(self._watchdog)
                self.dfk = new_dataflow_kernel(
                    config, self._fork_server and self._fork_server.address)
                fail_every_step_when_failing(self.dfk)
                give_up_when_blocks_end(self.dfk)
                self._interchanges = InterchangeWatch(self.dfk)
                start_first_blocks(self.dfk)
                self.record.parsl_ready(self.dfk)
            self.local_labels = set(
                parsl_private.thread_pool_executors(self.dfk))
            with entered(cache):
                self.run_pool = RunPool.create(cache)
                self.recycle = (None if recycle is None
                                else RecyclePool.create(cache, recycle[0]))
            self._remove_recycle = recycle is not None and recycle[1]
            if self.recycle is not None:
                self.recycle.join()
        except BaseException as error:
            self._stop_starting(keep_logs=isinstance(error, Exception))
            raise

    def _stop_starting(self, keep_logs):
        """Undo a start that failed (its logs are kept) or was stopped by
        Ctrl-C or SIGTERM (nothing ran: nothing is kept)."""
        if self.dfk is not None:
            log_files = log_handlers(self.dfk.run_dir)
            self._stop_watching_interchanges()
            self.dfk.cleanup()
            parsl_private.stop_result_threads(self.dfk)
            close_log_files(log_files)
            if not keep_logs:
                shutil.rmtree(run_folder(self.dfk), ignore_errors=True)
        self._programs.end()
        self._stop_fork_server()
        self._path.restore()
        self._watchdog.stop()

    def _stop_watching_interchanges(self):
        """Parsl's cleanup ends the interchanges now, on purpose."""
        if self._interchanges is not None:
            self._interchanges.stop()

    def _stop_fork_server(self):
        if self._fork_server is not None:
            self._fork_server.stop()

    @property
    def run_dir(self):
        return self.dfk.run_dir

    def submit(self, action, args, kwargs, parent_ctx=None):
        """Start ``action`` and return stand-ins for its results at once.

        A Pipeline runs its own body in a thread of this process, submitting
        its steps in turn; any other action is one Parsl app on the executor
        the mapping gives it.
        """
        if parent_ctx is None:
            self._recycle_in_entered_pool()
        if isinstance(action, Pipeline):
            future = self._drive(action, args, kwargs, parent_ctx)
        else:
            future = self._launch(action, args, kwargs, parent_ctx)
        return ProxyResults(Step(action, future, self.run_pool.load))

    def _recycle_in_entered_pool(self):
        """Use the named pool entered around ``.parallel()`` (``with
        cache.create_pool(keys=[...], reuse=True):``) as the recycle pool,
        as QIIME 2 2023.5 and later do."""
        cache = qiime2_private.current_cache()
        pool = getattr(cache, 'named_pool', None)
        if pool is None or self.recycle is not None:
            return
        if os.path.realpath(cache.path) != os.path.realpath(self.cache.path):
            raise ParallelError(
                f'The pool {pool.name} is in the cache {cache.path}, but '
                f'this ParallelConfig block runs in the cache '
                f'{self.cache.path}: enter the pool\'s cache (`with cache:`) '
                'around the ParallelConfig block, or pass recycle_pool= to '
                'ParallelConfig.')
        self.recycle = RecyclePool(self.cache, pool)
        self.recycle.join()

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
                clock, action, parent_ctx, self.run_pool, self.recycle,
                args, kwargs, *deps)
        else:
            with entered(self.cache):
                args, kwargs, deps = detach(args, kwargs,
                                            keep=self.run_pool.keep)
            future = self._app(run_elsewhere, label)(
                action.plugin_id, action.id, str(self.cache.path),
                self.run_pool.name, self.recycle and self.recycle.name,
                args, kwargs, *deps)
        name = f'{action.plugin_id}:{action.id}'
        future.add_done_callback(lambda f: self._count(f, name))
        if label not in self.local_labels:
            future.add_done_callback(lambda f: show_printed(f, name))
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

        thread = threading.Thread(
            target=body, daemon=True,
            name=f'q2-parallel {action.plugin_id}:{action.id}')
        with self._lock:
            self._threads.append(thread)
        thread.start()
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
        blocks = BlockProcessGroups(parsl_private.local_block_pids(self.dfk))
        try:
            if failed:
                if self.recycle is not None:
                    self.recycle.stop_keeping()
                stop_after_failure(self.dfk)
            self._stop_watching_interchanges()
            self.dfk.cleanup()
            parsl_private.stop_result_threads(self.dfk)
        finally:
            blocks.end()
            if failed:
                self.end_programs()
            if parsl_private.provider_executors(self.dfk):
                remove_dead_multiprocessing_folders(since=self._started)
            for path in parsl_private.launcher_scripts_left(self.dfk):
                os.remove(path)
            close_log_files(log_files)
            self._stop_fork_server()
            self._path.restore()
            with entered(self.cache):
                self.run_pool.remove()
                if self.recycle is not None:
                    self.recycle.leave(
                        remove=self._remove_recycle and not failed)
            if not failed:
                shutil.rmtree(run_folder(self.dfk), ignore_errors=True)
            self._watchdog.stop()

    def threads_ended(self, timeout):
        """After a failure: wait up to ``timeout`` seconds for the threads
        that ran the run's Pipelines and steps in this process, ending any
        program they start meanwhile; whether all ended.  They finish what
        they were doing (Python cannot stop a thread) but start no step."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for executor in parsl_private.thread_pool_executors(self.dfk).values():
            threads += parsl_private.thread_pool_threads(executor)
        while any(thread.is_alive() for thread in threads):
            if time.monotonic() > deadline:
                return False
            self.end_programs()
            time.sleep(0.1)
        return True

    def _count(self, future, name):
        """Note the steps taken from the recycle pool, and those whose
        kept results had lost their data and were run again."""
        if future.cancelled() or future.exception() is not None:
            return
        how = future.result().how
        if how != 'ran':
            with self._lock:
                self.recycled[how].append(name)

    def end_programs(self):
        """End the programs the run's steps started in this process."""
        self._programs.end()


def _fork_server(watchdog):
    """The copy of this process that local workers fork from, started
    before Parsl's threads exist; None where it cannot be (a temporary
    folder whose path is too long for a Unix socket): workers then load
    QIIME 2 themselves, once per pool."""
    try:
        return WorkerForkServer(close=[watchdog.pipe])
    except OSError:
        return None


def _name_failure(future, step_name):
    if future.cancelled():
        return
    error = future.exception()
    if error is not None and not parsl_private.is_propagated_failure(error):
        mark_failed_step(error, step_name)
        explain_lost_worker(error)
