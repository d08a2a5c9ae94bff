"""The parts of Parsl below its documented interface that the engine uses.

Written for every Parsl from 2024.10.07 (the newest for Python 3.8) to
2026.10.26; where those releases differ, the difference is handled here.
Parsl is imported when a function is called, never when this module is.
"""
import concurrent.futures
import queue
import sys
import threading


def import_parsl_unchecked():
    """Import Parsl, unless it is imported already, with typeguard's
    ``typechecked`` decorator made a no-op while its modules load (as under
    ``python -O``).  typeguard 4 instruments each function or class so
    decorated as its module is imported, by parsing the module's source
    again and compiling it anew, each time: half of the 0.3 s Parsl takes
    to import.  Its checks guard the arguments of Parsl's constructors,
    which the `qiime` command builds only from a config file whose values
    ``q2_parallel.config`` has checked against the same type hints.  For
    the command only: where a user's own code builds Parsl objects (a
    notebook), Parsl keeps its checks."""
    if 'parsl' in sys.modules:
        return
    import typeguard

    typechecked = typeguard.typechecked
    typeguard.typechecked = _not_checked
    try:
        import parsl  # noqa: F401
    finally:
        typeguard.typechecked = typechecked


def _not_checked(target=None, **options):
    """``typeguard.typechecked`` that checks nothing."""
    return _not_checked if target is None else target


def new_dataflow_kernel(config):
    """A ``DataFlowKernel`` for ``config``, without ``parsl.load`` (which
    keeps one global kernel): the engine runs one per ``with`` block.

    The kernel names its workflow after the first file on the call stack
    not its own, found with ``inspect.stack()``, which reads the source
    line of every frame and, for that, resolves the path of every module
    loaded: 0.2 s with a few QIIME 2 plugins, more with each.  ``dflow``'s
    ``inspect`` is given a ``stack`` that reads no source (``context=0``)."""
    from parsl.dataflow import dflow

    if not isinstance(dflow.inspect, _InspectWithoutSource):
        dflow.inspect = _InspectWithoutSource(dflow.inspect)
    return dflow.DataFlowKernel(config)


class _InspectWithoutSource:
    """The ``inspect`` module, except that ``stack()`` reads no source."""

    def __init__(self, inspect):
        self._inspect = inspect

    def __getattr__(self, name):
        return getattr(self._inspect, name)

    def stack(self, context=0):
        return self._inspect.stack(context)


def poll_blocks_now(dfk):
    """Start the executors' first blocks now, not at the first tick of the
    kernel's ``job_status_poller`` (a ``parsl.utils.Timer`` whose
    ``callback`` runs every ``strategy_period`` seconds, first after 5 s).
    The timer's polls and this one take turns, so the first block is never
    submitted twice."""
    poller = dfk.job_status_poller
    timer_poll = poller.callback
    turn = threading.Lock()

    def poll():
        with turn:
            timer_poll()

    poller.callback = poll
    poll()


def provider_executors(dfk):
    """The executors of ``dfk`` that run blocks through a provider."""
    return [executor for executor in dfk.executors.values()
            if getattr(executor, 'provider', None) is not None]


def thread_pool_executors(dfk):
    """label -> executor for the config's executors that run steps in
    threads of this process (not Parsl's own ``_parsl_internal`` one)."""
    from parsl.executors import ThreadPoolExecutor

    return {executor.label: executor for executor in dfk.config.executors
            if isinstance(executor, ThreadPoolExecutor)}


def drop_queued_thread_steps(executor):
    """Cancel the steps a Parsl ``ThreadPoolExecutor`` has not started and
    make its shutdown not wait for the running ones (Python cannot stop a
    thread).  Its ``concurrent.futures`` pool is its ``executor``
    attribute; Python 3.8's pool has no ``cancel_futures``, so its queue
    (``_work_queue``) is drained as 3.9 does it."""
    pool = executor.executor
    if sys.version_info >= (3, 9):
        pool.shutdown(wait=False, cancel_futures=True)
    else:
        pool.shutdown(wait=False)
        while True:
            try:
                item = pool._work_queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item.future.cancel()
    shutdown = executor.shutdown
    executor.shutdown = lambda *args, **kwargs: shutdown(block=False)


def fail_steps_not_launched(dfk, reason):
    """From now on, fail each step where ``dfk`` would launch it, with
    ``RuntimeError(reason)``.  Parsl launches a step when its inputs are
    done, through ``launch_if_ready`` (looked up on the kernel at each
    call); once
    ``cleanup`` has shut its launch pool, a step still running in a thread
    that ends would otherwise make Parsl print a traceback ("cannot schedule
    new futures after shutdown") for each step waiting on it."""
    def fail(task_record):
        future = task_record['app_fu']
        if not future.done():
            try:
                future.set_exception(RuntimeError(reason))
            except concurrent.futures.InvalidStateError:  # done meanwhile
                pass
    dfk.launch_if_ready = fail


def thread_pool_threads(executor):
    """The threads of a Parsl ``ThreadPoolExecutor``'s ``concurrent.futures``
    pool (its ``executor`` attribute; the pool's ``_threads``)."""
    return list(executor.executor._threads)


def local_block_pids(dfk):
    """The process ids of the blocks that ``dfk``'s ``LocalProvider``s
    started on this host (each block's job id is its shell's pid,
    ``LocalProvider.resources[job]['remote_pid']``)."""
    from parsl.providers import LocalProvider

    return [int(job['remote_pid'])
            for executor in provider_executors(dfk)
            if isinstance(executor.provider, LocalProvider)
            for job in executor.provider.resources.values()
            if job.get('remote_pid')]


def add_block_environment(config, variables):
    """Have the blocks of ``config``'s providers started with
    ``variables`` set.  Parsl 2026's providers start blocks with this
    process's environment as it is then; Parsl 2024.10.07's start them
    through a channel (``LocalChannel``) that copied the environment when
    it was made (``_envs``), so it is added there."""
    for executor in config.executors:
        channel = getattr(getattr(executor, 'provider', None), 'channel',
                          None)
        if isinstance(getattr(channel, '_envs', None), dict):
            channel._envs.update(variables)


def block_job_ids(executor):
    """The provider's job ids of the executor's blocks
    (``BlockProviderExecutor.blocks_to_job_id``)."""
    return list(executor.blocks_to_job_id.values())


def has_failed(executor):
    """Whether Parsl has marked the executor failed (``bad_state_is_set``)."""
    return executor.bad_state_is_set


def fail_executor(executor, error):
    """Mark the executor failed and fail its outstanding steps with
    ``error`` (``set_bad_state_and_fail_all``)."""
    executor.set_bad_state_and_fail_all(error)


def interchange_process(executor):
    """The process an HTEX's interchange was started as, or through (a
    ``subprocess.Popen``, ``interchange_proc``); None for other executors
    and before the interchange starts."""
    return getattr(executor, 'interchange_proc', None)


def bound_interchange_commands(executor, seconds):
    """Have an HTEX's ``command_client`` wait at most ``seconds`` for the
    interchange's answer to a command given without a timeout (its ``run``
    takes ``timeout_s``; Parsl passes one only while the interchange
    starts).  An interchange that ends while a command is on its way never
    answers; past the timeout Parsl marks the client bad, and later
    commands are refused at once."""
    client = executor.command_client
    run = client.run

    def run_bounded(message, max_retries=3, timeout_s=None):
        return run(message, max_retries,
                   seconds if timeout_s is None else timeout_s)

    client.run = run_bounded


def refuse_interchange_commands(executor):
    """After an HTEX's interchange has ended: have its ``command_client``
    refuse every later command at once (``CommandClientBadError``; its
    ``run`` checks ``ok`` first) instead of sending it and waiting, with no
    timeout, for an answer that never comes.  The job status poller asks
    the interchange which blocks are connected every few seconds, and
    Parsl's cleanup waits for the poller."""
    client = getattr(executor, 'command_client', None)
    if client is not None:
        client.ok = False


def fail_every_step_when_failing(executor):
    """Make the executor's ``set_bad_state_and_fail_all`` fail every step
    it has not finished.  Parsl's (2024.10.07 to 2026.10.26) sets each
    future of its ``tasks`` in turn and stops at the first one that has
    ended already (``InvalidStateError``) or when the table changes under
    it: the steps after that one were never failed, and a run waited for
    them forever (seen with a worker pool that could not reach its
    interchange, 500 steps queued).  Parsl's own error handlers call it, so
    it is replaced on the executor object."""
    from concurrent.futures import InvalidStateError

    from parsl.executors.errors import BadStateException

    fail_all = executor.set_bad_state_and_fail_all

    def fail_every_step(error):
        try:
            fail_all(error)
        except (InvalidStateError, RuntimeError):
            pass
        for future in list(executor.tasks.values()):
            try:
                future.set_exception(BadStateException(executor, error))
            except InvalidStateError:  # ended meanwhile
                pass

    executor.set_bad_state_and_fail_all = fail_every_step


def outstanding_steps(executor):
    """How many steps the executor has not finished.  Counted from its
    ``tasks`` table, not ``outstanding``: that is a method in later Parsl
    but a property asking the interchange in 2024.10, which would wait on a
    dead interchange."""
    return len(getattr(executor, 'tasks', {}))


def uses_default_block_error_handler(executor):
    """Whether the executor handles failed blocks with Parsl's
    ``simple_error_handler`` (the config chose no handler of its own)."""
    from parsl.jobs.error_handlers import simple_error_handler

    return getattr(executor, 'block_error_handler', None) \
        is simple_error_handler


def handle_block_errors(executor, handler):
    """Have ``handler(executor, status)`` called after Parsl's
    ``simple_error_handler`` on every poll of the executor's blocks."""
    from parsl.jobs.error_handlers import simple_error_handler

    def both(executor, status):
        simple_error_handler(executor, status)
        handler(executor, status)

    executor.block_error_handler = both


def is_lost_worker(error):
    """Whether ``error`` says that HTEX lost the worker running a step."""
    from parsl.executors.high_throughput.errors import (ManagerLost,
                                                        WorkerLost)

    return isinstance(error, (ManagerLost, WorkerLost))


def is_propagated_failure(error):
    """Whether ``error`` is Parsl's report that a step did not run because
    a step it depends on failed (``DependencyError``, ``JoinError``)."""
    from parsl.dataflow.errors import DependencyError, JoinError

    return isinstance(error, (DependencyError, JoinError))


def propagated_cause(error):
    """The failure a ``DependencyError``/``JoinError`` passes on: its
    ``__cause__`` in later Parsl, the first of its
    ``dependent_exceptions_tids`` in 2024.10."""
    if error.__cause__ is not None:
        return error.__cause__
    failures = getattr(error, 'dependent_exceptions_tids', None) or []
    return failures[0][0] if failures else None


def step_state(future):
    """'done', 'waiting' (for its inputs) or 'running' for an app's
    future, from its ``task_record['status']``."""
    from parsl.dataflow.states import FINAL_STATES, States

    status = future.task_record['status']
    if status in FINAL_STATES:
        return 'done'
    if status == States.pending:
        return 'waiting'
    return 'running'


def is_parsl_object(value):
    """Whether ``value`` is a Parsl object that keeps its constructor's
    arguments as attributes of the same names (``RepresentationMixin``,
    whose ``repr`` relies on that), and can so be rebuilt from them."""
    from parsl.utils import RepresentationMixin

    return isinstance(value, RepresentationMixin)


def stop_result_threads(dfk):
    """After ``dfk.cleanup()``: end each HTEX's thread that receives
    results, and close its socket.  Parsl 2024.10.07 leaves that thread
    waiting in ``incoming_q.get()`` for good (one thread and seven
    descriptors more per run, in a Jupyter kernel too); later releases stop
    it themselves (``_result_queue_thread_exit``).  The thread checks
    ``bad_state_is_set`` after each message, so the executor, which has
    shut down, is marked so and sent one heartbeat, the way the
    interchange would: as its CurveZMQ server, with the run's keys."""
    import pickle

    import zmq
    from parsl import curvezmq

    for executor in provider_executors(dfk):
        thread = getattr(executor, '_result_queue_thread', None)
        if (hasattr(executor, '_result_queue_thread_exit') or thread is None
                or not thread.is_alive()):
            continue
        executor._executor_bad_state.set()
        context = curvezmq.ServerContext(executor.cert_dir)
        try:
            sender = context.socket(zmq.DEALER)
            sender.setsockopt(zmq.LINGER, 0)
            sender.connect(f'tcp://127.0.0.1:{executor.incoming_q.port}')
            sender.send_multipart([pickle.dumps({'type': 'heartbeat'})])
            thread.join(timeout=10)
            sender.close()
        finally:
            context.term()
        if not thread.is_alive():
            executor.incoming_q.close()


def launcher_scripts_left(dfk):
    """Files Parsl 2024.10.07's launchers (``SrunLauncher``, ...) wrote
    into the directory jobs were submitted from: ``cmd_<job name>.sh`` for
    each job of the run (later releases write them into the run folder).
    A job's script in the run's ``submit_scripts`` bears its name."""
    import os

    folder = os.path.join(dfk.run_dir, 'submit_scripts')
    names = os.listdir(folder) if os.path.isdir(folder) else []
    submitted_from = {getattr(getattr(executor.provider, 'channel', None),
                              'userhome', None) or os.getcwd()
                      for executor in provider_executors(dfk)}
    return [path for where in submitted_from for name in names
            for path in [os.path.join(where, f'cmd_{name}.sh')]
            if os.path.isfile(path)]


_POOL_COMMAND = 'process_worker_pool.py'
_POOL_MODULE = 'q2_parallel.internals.process_worker_pool'
_INTERCHANGE_COMMAND = ['interchange.py']
_INTERCHANGE_MODULE = 'parsl.executors.high_throughput.interchange'


def start_helpers_here(dfk_config, fork_server=None):
    """Start each HTEX's worker pools through
    ``q2_parallel.internals.process_worker_pool`` (workers forked from a
    process that has QIIME 2 loaded; an address probe that cannot miss the
    interchange), unless the config gave its own ``launch_cmd``.  With a
    ``fork_server`` (its address), local blocks' pools and every HTEX's
    interchange (unless the config gave its own ``interchange_launch_cmd``)
    are forked from it (``forked_main``): they start without importing
    Parsl.  Works on the run's copy of the config, before Parsl starts
    it."""
    import shlex

    from parsl.executors import HighThroughputExecutor

    from q2_parallel.internals import forked_main

    for executor in dfk_config.executors:
        if not isinstance(executor, HighThroughputExecutor):
            continue
        if (executor.launch_cmd or '').startswith(_POOL_COMMAND):
            pool = [sys.executable, '-m', _POOL_MODULE]
            if fork_server and _on_this_host(executor.provider):
                pool = [*forked_main.command(fork_server, _POOL_MODULE),
                        '--fork-server', fork_server]
            executor.launch_cmd = executor.launch_cmd.replace(
                _POOL_COMMAND, shlex.join(pool), 1)
        if fork_server and (list(executor.interchange_launch_cmd)
                            == _INTERCHANGE_COMMAND):
            executor.interchange_launch_cmd = forked_main.command(
                fork_server, _INTERCHANGE_MODULE)


def import_helper_modules():
    """Import what HTEX's interchange and worker pool import, so that those
    forked from this process start at once.  The two modules themselves
    are dropped again: they run as ``__main__`` (``runpy``), which warns
    about a module already imported."""
    import importlib

    for module in (_INTERCHANGE_MODULE,
                   'parsl.executors.high_throughput.process_worker_pool'):
        importlib.import_module(module)
        del sys.modules[module]


def local_worker_pools(dfk_config):
    """Whether any HTEX of the config starts its blocks on this host
    (a ``LocalProvider``, through no remote channel)."""
    from parsl.executors import HighThroughputExecutor

    return any(isinstance(executor, HighThroughputExecutor)
               and _on_this_host(executor.provider)
               for executor in dfk_config.executors)


def _on_this_host(provider):
    """A ``LocalProvider`` whose commands run here (Parsl 2024.10.07's may
    run them through an ``SSHChannel``)."""
    from parsl.providers import LocalProvider

    channel = getattr(provider, 'channel', None)
    return (isinstance(provider, LocalProvider)
            and type(channel).__name__ in ('NoneType', 'LocalChannel'))


def worker_place():
    """Where in an HTEX this process is, from the variables Parsl's
    ``process_worker_pool`` sets for each worker (``PARSL_WORKER_BLOCK_ID``,
    ``PARSL_WORKER_RANK``): ``{'block': ..., 'worker': ...}``; empty outside
    a worker."""
    import os

    names = {'block': 'PARSL_WORKER_BLOCK_ID', 'worker': 'PARSL_WORKER_RANK'}
    return {key: os.environ[name] for key, name in names.items()
            if name in os.environ}


def configured_executors(dfk):
    """The executors of the run's config (``dfk.config.executors``),
    without Parsl's own ``_parsl_internal`` one."""
    return list(dfk.config.executors)


def task_facts(future):
    """What Parsl's task record of an app's future says about its timing,
    as plain values: ``id``; ``status`` (a ``States`` name); ``invoked``,
    ``launched`` (the last try's), ``returned`` (the last try's) and
    ``done`` as ``time.time()`` values or None; ``tries_failed``;
    ``reused`` (memoised); ``depends``, the futures it waited for.  Uses
    only keys that Parsl 2024.10.07 to 2026.10.26 all keep."""
    record = future.task_record

    def seconds(key):
        moment = record.get(key)
        return None if moment is None else moment.timestamp()

    status = record.get('status')
    return {'id': record.get('id'),
            'status': getattr(status, 'name', str(status)),
            'invoked': seconds('time_invoked'),
            'launched': seconds('try_time_launched'),
            'returned': seconds('try_time_returned'),
            'done': seconds('time_returned'),
            'tries_failed': record.get('fail_count') or 0,
            'reused': bool(record.get('from_memo')),
            'depends': list(record.get('depends') or [])}
