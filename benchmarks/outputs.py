"""What a run produced, compared as bytes: nothing is traded for speed, so
every variant's output must hold exactly the serial run's data."""
import hashlib
import zipfile


class OutputsDiffer(RuntimeError):
    """A variant's output is not the expected data."""


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
            raise OutputsDiffer(f'{qza} has no data files')
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
        raise OutputsDiffer(f'{qza}: the data are not the squares of the '
                            f'input ({len(found.splitlines())} lines)')
