"""Parsl's helper commands on PATH while runs last."""
import os
import sys
import threading

_lock = threading.Lock()
_users = 0
_added = False


class PythonOnPath:
    """Put this Python's ``bin/`` on PATH while a run lasts.

    Parsl's HighThroughputExecutor starts ``interchange.py`` and
    ``process_worker_pool.py`` by name; in a venv used without activating it
    (a Jupyter kernel, ``.venv/bin/python`` run by path) they are not found.
    PATH belongs to the whole process, and blocks in several threads may
    overlap in any order: the first one in adds the folder, the last one
    out removes it again (and nothing else another thread changed meanwhile).
    """

    bin_dir = os.path.dirname(sys.executable)

    def __init__(self):
        global _users, _added
        with _lock:
            _users += 1
            if _users == 1:
                parts = os.environ.get('PATH', '').split(os.pathsep)
                _added = self.bin_dir not in parts
                if _added:
                    os.environ['PATH'] = os.pathsep.join(
                        [self.bin_dir, *filter(None, parts)])
        self._held = True

    def restore(self):
        global _users, _added
        if not self._held:
            return
        self._held = False
        with _lock:
            _users -= 1
            if _users == 0 and _added:
                parts = os.environ.get('PATH', '').split(os.pathsep)
                if self.bin_dir in parts:
                    parts.remove(self.bin_dir)
                os.environ['PATH'] = os.pathsep.join(parts)
                _added = False
