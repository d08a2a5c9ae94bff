"""Private parts of Python's ``multiprocessing`` (3.8 to 3.11) and of its
``weakref.finalize`` registry, which the engine's worker fork server uses.
"""
import os


def serve_forks(listener, alive_r):
    """Run multiprocessing's fork server loop (``forkserver.main``) in this
    process: it forks a child for each request made on the Unix socket
    ``listener`` and returns once the pipe ``alive_r`` reaches its end.

    The loop ends (and with it the server, and every child's report of how
    it ended) when a client goes before its request is read: its
    ``reduction.recvfds`` raises EOFError or RuntimeError, where the loop
    only passes over ECONNABORTED.  A client killed as it starts (a block
    ended at once) must not end the run's server, so here those errors are
    ECONNABORTED."""
    import errno
    from multiprocessing import forkserver, reduction

    receive = reduction.recvfds

    def recvfds(sock, size):
        try:
            return receive(sock, size)
        except (EOFError, RuntimeError, ConnectionError) as error:
            raise ConnectionAbortedError(
                errno.ECONNABORTED, f'a client left: {error!r}') from error

    reduction.recvfds = recvfds
    forkserver.main(listener.fileno(), alive_r, [])


def fork_from(address):
    """Have this process's ``forkserver`` start method fork from the server
    already listening at ``address`` (another process's) instead of
    starting one of its own: the client keeps the server's address, and an
    open descriptor it hands each child as the server's ``alive`` end
    (``_forkserver_address``, ``_forkserver_alive_fd``).  Only the resource
    tracker is started here (``ensure_running``)."""
    from multiprocessing import forkserver, resource_tracker

    client = forkserver._forkserver
    client._forkserver_address = address
    client._forkserver_alive_fd = os.open(os.devnull, os.O_RDONLY)
    client.ensure_running = resource_tracker.ensure_running


def no_resource_tracker_here():
    """Start no resource tracker in this process (a client of the fork
    server, which waits for its child and nothing else): the one it hands
    the child (``resource_tracker._resource_tracker._fd``) writes to
    /dev/null, and the child starts its own if it needs one
    (``forget_resource_tracker``).  A tracker started here would outlive
    the client, in its process group, until the child ends."""
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker
    tracker._fd = os.open(os.devnull, os.O_WRONLY)
    tracker._pid = None


def forget_resource_tracker():
    """In a child of the fork server: forget the resource tracker its
    client handed it, so that the first use starts one of its own."""
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker
    if tracker._fd is not None:
        os.close(tracker._fd)
    tracker._fd = tracker._pid = None


def detach_finalizers():
    """Detach every ``weakref.finalize`` of this process
    (``weakref.finalize._registry``): in a process forked from another,
    they are the other's to run (QIIME 2's remove its temporary folders and
    release its cache entries)."""
    import weakref

    for finalizer in list(weakref.finalize._registry):
        finalizer.detach()
