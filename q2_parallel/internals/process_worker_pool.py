"""Parsl's HTEX worker pool (``process_worker_pool.py``), started with an
address probe that cannot miss the interchange.

Parsl 2024.10.07's ``probe_addresses`` connects a socket first and attaches
the monitor that waits for the connection only afterwards: when the process
is slow to get there (a loaded machine, a busy node) the connection is
already made, the event never comes, and the pool exits after 30 s with
"Failed to find a viable address" (seen in CI, several times a run).  Here the
monitor is attached first.  ``parsl_private.use_reliable_worker_probe``
points an executor's launch command at this module; it takes the same
arguments as ``process_worker_pool.py``.
"""
import runpy
import time


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


if __name__ == '__main__':
    from parsl.executors.high_throughput import probe

    probe.probe_addresses = probe_addresses
    runpy.run_module('parsl.executors.high_throughput.process_worker_pool',
                     run_name='__main__', alter_sys=True)
