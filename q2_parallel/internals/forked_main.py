"""Run a module as ``__main__`` in a process forked from the run's fork
server (``engine._fork_server``), in this process's place.

HTEX's interchange and a local block's worker pool are Python programs
that Parsl starts by command.  Started as fresh interpreters, each imports
Parsl (a third of a second) before it can answer, one after the other, and
the run's first step waits for both.  The fork server has Parsl imported
already.  So the command Parsl starts is this small client: it asks the
server for a child that stands in for it (``StandIn``: its environment,
working folder, process group and standard streams, which hold the
interchange's settings and a block's log files) and runs the module; then
it waits for the child and exits as it did.  It passes SIGTERM on to the
child (Parsl ends the interchange with it), and the child ends itself when
the client is gone (Parsl kills a client that did not end in time).  When
the server is gone, the client runs the module itself.

``python -m q2_parallel.internals.forked_main --fork-server ADDRESS MODULE
[ARGUMENT ...]``
"""
import multiprocessing
import multiprocessing.connection
import multiprocessing.reduction
import os
import runpy
import signal
import sys
import threading
import time
from dataclasses import dataclass

import setproctitle

from q2_parallel.internals import multiprocessing_private

FORK_SERVER_OPTION = '--fork-server'


def command(address, module):
    """The command line that runs ``module`` forked from ``address``
    (to which its arguments are appended)."""
    return [sys.executable, '-m', __name__, FORK_SERVER_OPTION, address,
            module]


@dataclass
class StandIn:
    """What a child forked from the server takes over from the process
    that asked for it: made there (``of_this_process``), pickled to the
    server with the child's target, taken over in the child (``become``)."""
    environ: dict
    cwd: str
    group: int
    streams: tuple  # a _Stream (descriptor) or None for 0, 1 and 2

    @classmethod
    def of_this_process(cls, stdin=True):
        """``stdin``: whether the child reads this process's standard
        input (multiprocessing gives its children none)."""
        return cls(dict(os.environ), os.getcwd(), os.getpgrp(),
                   tuple(_Stream(fd) if fd or stdin else None
                         for fd in (0, 1, 2)))

    def become(self):
        # setproctitle (which Parsl titles its processes with) finds the
        # room it may write titles over only while the environment is the
        # one the process started with
        setproctitle.getproctitle()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        for fd, received in enumerate(self.streams):
            if received is not None:
                os.dup2(received, fd)
                os.close(received)
        if self.streams[0] is not None:
            sys.stdin = open(0, closefd=False)
        os.environ.clear()
        os.environ.update(self.environ)
        os.chdir(self.cwd)
        try:
            os.setpgid(0, self.group)
        except OSError:  # the group has ended: so will this process
            pass


class _Stream:
    """A descriptor of the asking process, handed to the forked child as
    multiprocessing hands descriptors (``reduction.DupFd``): an int
    there."""

    def __init__(self, fd):
        self.fd = fd

    def __reduce__(self):
        return _received, (multiprocessing.reduction.DupFd(self.fd),)


def _received(duplicate):
    return duplicate.detach()


def main(argv):
    address, module, arguments = _parse(argv[1:])
    if not os.path.exists(address):
        sys.argv = [module, *arguments]
        runpy.run_module(module, run_name='__main__', alter_sys=True)
        return
    # As the command it replaces (started with Ctrl-C blocked, which the
    # run may not have done: a notebook's thread), the client leaves Ctrl-C
    # to the run, which ends it with SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    multiprocessing_private.fork_from(address)
    multiprocessing_private.no_resource_tracker_here()
    child = multiprocessing.get_context('forkserver').Process(
        target=run_in_place_of_client,
        args=(StandIn.of_this_process(), module, [module, *arguments]),
        name=module)
    signal.signal(signal.SIGTERM, lambda *_: _pass_on(child))
    child.start()
    sys.exit(_exit_status(child))


def _exit_status(child):
    """Wait for ``child``; its exit status as a shell gives it.  The server
    reports how a child ended (255 if the server itself is gone, say
    killed): the client then waits for the child as long as it runs."""
    child.join()
    code = child.exitcode
    if code == 255:
        while _running(child.pid):
            time.sleep(0.5)
    return 128 - code if code < 0 else code


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _parse(options):
    if len(options) < 3 or options[0] != FORK_SERVER_OPTION:
        raise SystemExit(f'usage: {__name__} {FORK_SERVER_OPTION} ADDRESS '
                         'MODULE [ARGUMENT ...]')
    return options[1], options[2], options[3:]


def _pass_on(child):
    if child.pid is not None:
        try:
            os.kill(child.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def run_in_place_of_client(stand_in, module, argv):
    """In the forked child: stand in for the client, then run ``module``
    as ``__main__``."""
    stand_in.become()
    multiprocessing_private.forget_resource_tracker()
    _end_with_client()
    _set_title([os.path.basename(sys.executable), '-m', *argv])
    sys.argv = argv
    runpy.run_module(module, run_name='__main__', alter_sys=True)


def _set_title(words):
    """Show ``words`` as this process's command line (``ps``), not the
    run's that the server was copied from (the module may set its own)."""
    setproctitle.setproctitle(' '.join(words))


def _end_with_client():
    """End this process (SIGTERM) when the client that asked for it ends."""
    client = multiprocessing.parent_process()

    def watch():
        multiprocessing.connection.wait([client.sentinel])
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True,
                     name='q2-parallel client watch').start()


if __name__ == '__main__':
    # By its importable name, so that the child finds what it runs.
    from q2_parallel.internals import forked_main

    forked_main.main(sys.argv)
