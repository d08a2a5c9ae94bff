"""Parsl's HTEX worker pool (``process_worker_pool.py``), with its workers
forked from a process that has loaded QIIME 2 already, and with an address
probe that cannot miss the interchange.

Workers: Parsl starts each worker as a fresh interpreter (``spawn``), which
imports QIIME 2 and loads every installed plugin before its first step:
seconds per worker, all of them at once.  Here they are forked, with all of
that loaded, from a multiprocessing fork server: on the run's own host, the
copy of the run's process named by ``--fork-server ADDRESS`` (see
``engine._fork_server``); elsewhere, one this pool starts first thing,
which loads QIIME 2 once (``preload``) while the pool registers with the
interchange.  Forked processes stand in for the pool
(``forked_main.StandIn``): they take its environment (a block's
``worker_init`` may have set it), working folder and output, and join its
process group, so that whatever ends the block ends them.  On the run's
host the pool itself is forked too (``forked_main``).

Probe: Parsl 2024.10.07's ``probe_addresses`` connects a socket first and
attaches the monitor that waits for the connection only afterwards: when
the process is slow to get there (a loaded machine, a busy node) the
connection is already made, the event never comes, and the pool exits after
30 s with "Failed to find a viable address" (seen in CI, several times a
run).  Here the monitor is attached first.

``parsl_private.start_helpers_here`` points an executor's launch
command at this module; it takes the same arguments as
``process_worker_pool.py``.
"""
import inspect
import multiprocessing
import multiprocessing.forkserver
import os
import runpy
import sys
import time

from q2_parallel.internals.forked_main import FORK_SERVER_OPTION, StandIn


class ForkedWorkers:
    """Parsl's ``spawn`` context, except that the processes it starts
    (workers; with a ready fork server, also the pool's manager server) are
    forked from the fork server, into this process's group."""

    def __init__(self, spawn, forkserver, ready):
        self._spawn = spawn
        self._forkserver = forkserver
        self._ready = ready

    def __getattr__(self, name):
        return getattr(self._spawn, name)

    def Process(self, target, args=(), kwargs=None, **options):
        return self._forkserver.Process(
            target=as_pool_process,
            args=(StandIn.of_this_process(stdin=False), target, args,
                  kwargs or {}),
            **options)

    def Manager(self):
        if not self._ready:  # it waits for the fork server's preload
            return self._spawn.Manager()
        from multiprocessing.managers import SyncManager

        manager = SyncManager(ctx=self)
        manager.start()
        return manager


def as_pool_process(stand_in, target, args, kwargs):
    """Stand in for the pool (its environment, which its block's
    ``worker_init`` may have set, working folder, process group and
    output), then run ``target``."""
    stand_in.become()
    return target(*args, **kwargs)


def fork_server(argv):
    """The fork server named in ``argv`` (the option is removed), or one
    started here, which loads QIIME 2 at once, beside this process; and
    whether it was ready.  None where none can start (its socket's path
    would be too long): Parsl then spawns its workers."""
    forkserver = multiprocessing.get_context('forkserver')
    if FORK_SERVER_OPTION in argv:
        at = argv.index(FORK_SERVER_OPTION)
        address = argv[at + 1]
        del argv[at:at + 2]
        if os.path.exists(address):
            from q2_parallel.internals import multiprocessing_private

            multiprocessing_private.fork_from(address)
            return forkserver, True
    forkserver.set_forkserver_preload(['q2_parallel.engine.worker_preload'])
    try:
        multiprocessing.forkserver.ensure_running()
    except OSError:
        return None, False
    return forkserver, False


def probe_addresses(addresses, task_port, timeout=120):
    """The first of ``addresses`` where the interchange's ``task_port``
    accepts a connection within ``timeout`` seconds, or None."""
    import zmq
    from zmq.utils.monitor import recv_monitor_message

    context = zmq.Context()
    probes = {}
    try:
        for address in addresses:
            socket = context.socket(zmq.DEALER)
            socket.setsockopt(zmq.LINGER, 0)
            monitor = socket.get_monitor_socket(events=zmq.EVENT_CONNECTED)
            socket.connect(f'tcp://{address}:{task_port}')
            probes[address] = (socket, monitor)
        deadline = time.time() + timeout
        while time.time() < deadline:
            for address, (_, monitor) in probes.items():
                try:
                    recv_monitor_message(monitor, zmq.NOBLOCK)
                    return address
                except zmq.Again:
                    pass
            time.sleep(0.01)
        return None
    finally:
        for socket, monitor in probes.values():
            socket.disable_monitor()
            monitor.close()
            socket.close()
        context.term()


def probe_can_miss(probe):
    """Whether Parsl's ``probe_addresses`` connects before it monitors."""
    source = inspect.getsource(probe.probe_addresses)
    return source.find('get_monitor_socket') > source.find('.connect(')


def main(argv):
    """Run Parsl's worker pool with ``argv``, its workers forked."""
    forkserver, ready = fork_server(argv)

    import parsl.multiprocessing
    from parsl.executors.high_throughput import probe

    if probe_can_miss(probe):
        probe.probe_addresses = probe_addresses
    if forkserver is not None:
        parsl.multiprocessing.SpawnContext = ForkedWorkers(
            parsl.multiprocessing.SpawnContext, forkserver, ready)
    runpy.run_module('parsl.executors.high_throughput.process_worker_pool',
                     run_name='__main__', alter_sys=True)


if __name__ == '__main__':
    # By its importable name, so that the processes it forks find what
    # they run (this copy is ``__main__``, replaced while Parsl's runs).
    from q2_parallel.internals import process_worker_pool

    process_worker_pool.main(sys.argv)
