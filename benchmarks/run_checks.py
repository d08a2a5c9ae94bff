"""What every measured run must show, or the comparison stops: nothing is
traded for speed (its output holds exactly the serial run's data), and its
apply steps ran where its config put them (in the `qiime` process, or all
in HTEX workers), so a mapping an engine ignored cannot pass for a fast
run."""
import hashlib
import json
import zipfile
from pathlib import Path


class CheckFailed(RuntimeError):
    """A run's output or the place of its steps is not as expected."""


def data_fingerprint(qza):
    """A hash of the files in the artifact's ``data/`` folder (names and
    bytes); UUIDs and provenance, which differ from run to run, are left
    out."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(qza) as archive:
        names = sorted(name for name in archive.namelist()
                       if name.split('/')[1:2] == ['data']
                       and not name.endswith('/'))
        if not names:
            raise CheckFailed(f'{qza} has no data files')
        for name in names:
            digest.update(name.split('/', 1)[1].encode() + b'\0')
            digest.update(archive.read(name) + b'\0')
    return digest.hexdigest()


def expected_squares(qza, ints):
    """Checks that ``qza`` holds the squares of ``ints``, sorted, as the
    test plugin's ``square_all`` writes them."""
    with zipfile.ZipFile(qza) as archive:
        name, = [n for n in archive.namelist()
                 if n.endswith('/data/ints.txt')]
        found = archive.read(name).decode()
    expected = ''.join(f'{n}\n' for n in sorted(i * i for i in ints))
    if found != expected:
        raise CheckFailed(f'{qza}: the data are not the squares of the '
                          f'input ({len(found.splitlines())} lines)')


def step_places(record_dir, partitions, main_pid, in_workers, what):
    """Checks the notes the test plugin's ``square`` steps left in
    ``record_dir`` (``--p-record-dir``): one a partition, each written by
    the `qiime` process (``main_pid``) or, ``in_workers``, by none of them
    by it.  Returns how many processes ran them."""
    pids = [json.loads(path.read_text())['pid']
            for path in Path(record_dir).glob('square-*.json')]
    if len(pids) != partitions:
        raise CheckFailed(f'{what}: {len(pids)} square steps ran, not '
                          f'{partitions}')
    in_main = pids.count(main_pid)
    if in_workers and in_main:
        raise CheckFailed(f'{what}: {in_main} of {partitions} square steps '
                          f'ran in the qiime process, not in HTEX workers')
    if not in_workers and in_main != partitions:
        raise CheckFailed(f'{what}: {partitions - in_main} square steps ran '
                          f'outside the qiime process')
    return len(set(pids))
