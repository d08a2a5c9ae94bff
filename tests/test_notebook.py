"""The example notebook, and the Artifact API in a real Jupyter kernel.

The kernel is the venv's ipykernel, with a private HOME, so that every
process a run starts (the kernel, Parsl's interchange and workers) carries
that HOME in its environment and can be found again after shutdown.
"""
import ast
import json
import re
import time

import nbformat
import psutil
import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from tests.helpers import REPO, VENV_BIN, isolated_env, parallel_config_toml

# Slow: runs notebooks in real Jupyter kernels.
pytestmark = pytest.mark.slow

NOTEBOOK = REPO / 'examples' / 'parallel-pipelines.ipynb'
KERNEL_NAME = 'q2-parallel-venv'


@pytest.fixture(scope='module')
def kernel_specs(tmp_path_factory):
    """A kernel spec that runs the venv's Python, in a private folder."""
    spec = tmp_path_factory.mktemp('kernels') / KERNEL_NAME
    spec.mkdir()
    (spec / 'kernel.json').write_text(json.dumps({
        'argv': [str(VENV_BIN / 'python'), '-m', 'ipykernel_launcher',
                 '-f', '{connection_file}'],
        'display_name': 'q2-parallel venv', 'language': 'python'}))
    return KernelSpecManager(kernel_dirs=[str(spec.parent)])


def started_with_home(home):
    """Live processes whose environment has HOME=`home`."""
    found = []
    for process in psutil.process_iter():
        try:
            if (process.environ().get('HOME') == str(home)
                    and process.status() != psutil.STATUS_ZOMBIE):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def assert_nothing_left(home):
    """Processes get a moment to exit after they are told to."""
    _, alive = psutil.wait_procs(started_with_home(home), timeout=30)
    assert alive == [], [(p.pid, p.cmdline()) for p in alive]


# The example notebook, top to bottom ----------------------------------------

@pytest.fixture(scope='module')
def executed(kernel_specs, tmp_path_factory):
    root = tmp_path_factory.mktemp('notebook')
    home, work = root / 'home', root / 'work'
    home.mkdir()
    work.mkdir()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    manager = KernelManager(kernel_name=KERNEL_NAME,
                            kernel_spec_manager=kernel_specs)
    try:
        NotebookClient(notebook, km=manager, timeout=600,
                       resources={'metadata': {'path': str(work)}}
                       ).execute(env=isolated_env(home))
    finally:  # nbclient leaves a kernel it was given running
        manager.shutdown_kernel()
    return notebook, home, work


def output_of(notebook, source_part):
    """Text of the outputs of the one code cell whose source has
    `source_part`: printed text, then the cell's value as plain text."""
    cells = [cell for cell in notebook.cells
             if cell.cell_type == 'code' and source_part in cell.source]
    assert len(cells) == 1, source_part
    texts = []
    for output in cells[0].outputs:
        if output.output_type == 'stream':
            texts.append(output.text)
        elif output.output_type == 'execute_result':
            texts.append(output.data['text/plain'])
    return ''.join(texts)


def printed_number(text, label):
    return int(re.search(rf'{label}:\s+(\d+)', text).group(1))


def printed_list(text, label):
    return ast.literal_eval(re.search(rf'{label}:\s+(\[.*\])', text).group(1))


def test_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == 'code':
            assert cell.outputs == [] and cell.execution_count is None


def test_thread_run_shows_the_table_of_a_serial_run(executed):
    notebook, _, work = executed
    shown = output_of(notebook, 'dereplicate.parallel(')
    assert re.search(r'^\d+ unique sequences seen at least twice', shown)
    assert 'feature-id' in shown and 'gut.1' in shown  # the pandas view
    assert output_of(notebook, 'serial = ') == 'Same as the serial run: True\n'
    assert {'seqs.fna', 'threads.toml', 'workers.toml'} <= {
        path.name for path in work.iterdir()}


def test_htex_cell_ran_worker_processes_that_stopped(executed):
    notebook, _, _ = executed
    kernel = printed_number(output_of(notebook, 'import os'),
                            'Kernel process')
    shown = output_of(notebook, 'count_kmers.parallel(')
    workers = printed_list(shown, 'Worker processes')
    assert printed_number(shown, 'Kernel process') == kernel
    assert workers and kernel not in workers
    assert 'Still running after the block: []' in shown
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status()
                   != psutil.STATUS_ZOMBIE for pid in workers)
    assert 'AAAA' in shown  # the k-mer table


def test_pipeline_defined_in_the_notebook_ran(executed):
    notebook, _, _ = executed
    shown = output_of(notebook, 'kmers_and_gc_action.parallel(')
    assert shown.startswith('Same k-mer counts as in section 3: True\n')
    assert 'gc0' in shown  # the GC-content table


def test_no_process_of_the_run_left_after_the_kernel_shut_down(executed):
    _, home, _ = executed
    assert_nothing_left(home)


# Things that break in notebooks and must not --------------------------------

WORKERS_TOML = parallel_config_toml(htex='htex',
                                    mapping={'step_count_kmers': 'htex'})

SETUP = '''
import time
import pandas as pd
from qiime2 import Artifact
from qiime2.plugins import parallel as demo
from q2_parallel import ParallelConfig, get_config_from_file
from q2_parallel.demo import simulate_reads, write_reads

write_reads(simulate_reads(samples=4, reads_per_sample=40, seed=7),
            'seqs.fna')
sequences = Artifact.import_data('SampleSequences', 'seqs.fna')
serial, = demo.pipelines.count_kmers(sequences, k=3, partitions=2)
config, mapping = get_config_from_file('workers.toml')
'''

# A cell a user re-runs: load the config, run in parallel, compare.
RUN_AGAIN = '''
config, mapping = get_config_from_file('workers.toml')
with ParallelConfig(config, mapping):
    counts, = demo.pipelines.count_kmers.parallel(
        sequences, k=3, partitions=2)._result()
print('equal to serial:', counts.view(pd.DataFrame).equals(
    serial.view(pd.DataFrame)))
'''

DEFINE_PIPELINE = '''
import qiime2.sdk
from qiime2.plugin import Int, Plugin
from q2_parallel.demo import CountTable, FeatureCounts, Kmer, SampleSequences

notebook_plugin = Plugin(
    name='my-notebook', version='0.0.1', website='https://qiime2.org',
    package='__main__', project_name='my-notebook')


def kmers_twice(ctx, sequences, k=3):
    count_kmers = ctx.get_action('parallel', 'count_kmers')
    first, = count_kmers(sequences, k=k, partitions=2)
    second, = count_kmers(sequences, k=k, partitions=3)
    return first, second


def same_table(table: FeatureCounts) -> FeatureCounts:
    return table


notebook_plugin.pipelines.register_function(
    function=kmers_twice, inputs={'sequences': SampleSequences},
    parameters={'k': Int},
    outputs=[('first', CountTable[Kmer]), ('second', CountTable[Kmer])],
    name='K-mers twice', description='Counts k-mers in two ways.')
notebook_plugin.methods.register_function(
    function=same_table, inputs={'table': CountTable[Kmer]}, parameters={},
    outputs=[('same', CountTable[Kmer])], name='Same table',
    description='Returns its input.')
qiime2.sdk.PluginManager().add_plugin(notebook_plugin)
'''


class KernelSession:
    """One real ipykernel, driven cell by cell as Jupyter would."""

    def __init__(self, specs, home, work):
        self.home = home
        self.work = work
        self.manager = KernelManager(kernel_name=KERNEL_NAME,
                                     kernel_spec_manager=specs)
        self.manager.start_kernel(env=isolated_env(home), cwd=str(work))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, code, timeout=300):
        """(status, printed text, error name) of executing `code`."""
        printed, error = [], {}

        def keep(message):
            content = message['content']
            if message['msg_type'] == 'stream':
                printed.append(content['text'])
            elif message['msg_type'] == 'error':
                error.update(content)

        reply = self.client.execute_interactive(code, timeout=timeout,
                                                output_hook=keep)
        return (reply['content']['status'], ''.join(printed),
                f"{error.get('ename')}: {error.get('evalue')}")

    def interrupt_when(self, code, marker, timeout=300):
        """Run `code`, interrupt the kernel (the notebook's stop button)
        once `code` has created the file `marker`; the error name."""
        message_id = self.client.execute(code)
        deadline = time.monotonic() + timeout
        while not (self.work / marker).exists():
            assert time.monotonic() < deadline, f'{marker} never appeared'
            time.sleep(0.2)
        self.manager.interrupt_kernel()
        while True:
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply['parent_header'].get('msg_id') == message_id:
                break
        # As a user's next cell would: once the kernel is idle again, not
        # while it still drops requests queued behind the failed cell.
        while True:
            status = self.client.get_iopub_msg(timeout=timeout)
            if (status['parent_header'].get('msg_id') == message_id
                    and status['msg_type'] == 'status'
                    and status['content']['execution_state'] == 'idle'):
                return reply['content'].get('ename')

    def shutdown(self):
        if self.manager.has_kernel:
            self.client.stop_channels()
            self.manager.shutdown_kernel()


@pytest.fixture(scope='module')
def session(kernel_specs, tmp_path_factory):
    root = tmp_path_factory.mktemp('session')
    home, work = root / 'home', root / 'work'
    home.mkdir()
    work.mkdir()
    (work / 'workers.toml').write_text(WORKERS_TOML)
    kernel = KernelSession(kernel_specs, home, work)
    try:
        status, _, error = kernel.run(SETUP)
        assert status == 'ok', error
        yield kernel
    finally:
        kernel.shutdown()


def test_block_interrupted_by_the_stop_button_then_run_again(session):
    interrupted = session.interrupt_when('''
with ParallelConfig(*get_config_from_file('workers.toml')):
    demo.pipelines.count_kmers.parallel(sequences, k=3, partitions=2)
    open('inside-the-block', 'w').close()
    time.sleep(600)
''', 'inside-the-block')
    assert interrupted == 'KeyboardInterrupt'
    assert session.run(RUN_AGAIN)[:2] == ('ok', 'equal to serial: True\n')


def test_block_ended_by_an_exception_then_run_again(session):
    status, _, error = session.run('''
with ParallelConfig(*get_config_from_file('workers.toml')):
    demo.pipelines.count_kmers.parallel(sequences, k=3, partitions=2)
    raise ValueError('a mistake in the cell')
''')
    assert (status, error) == ('error', 'ValueError: a mistake in the cell')
    assert session.run(RUN_AGAIN)[:2] == ('ok', 'equal to serial: True\n')


def test_same_cell_run_twice(session):
    for _ in range(2):
        assert session.run(RUN_AGAIN)[:2] == ('ok', 'equal to serial: True\n')


def test_pipeline_defined_in_the_notebook(session):
    for _ in range(2):  # re-running the defining cell is fine too
        status, _, error = session.run(DEFINE_PIPELINE)
        assert status == 'ok', error
    # The Pipeline's body runs in the kernel; the installed plugin's steps
    # it calls follow the mapping, to worker processes.
    status, printed, error = session.run('''
action = notebook_plugin.pipelines['kmers_twice']
with ParallelConfig(*get_config_from_file('workers.toml')) as run:
    first, second = action.parallel(sequences, k=3)._result()
print(run.progress().done, 'steps;',
      first.view(pd.DataFrame).equals(serial.view(pd.DataFrame)),
      second.view(pd.DataFrame).equals(serial.view(pd.DataFrame)))
''')
    assert (status, printed) == ('ok', '12 steps; True True\n'), error


def test_notebook_method_runs_in_local_worker_processes(session):
    """Local workers are forked from the kernel's process, so a plugin
    registered in the notebook runs there too, like an installed one."""
    assert session.run(DEFINE_PIPELINE)[0] == 'ok'
    status, printed, error = session.run('''
import os
with ParallelConfig(get_config_from_file('workers.toml')[0],
                    {'same_table': 'htex'}, report='same.html') as run:
    same, = notebook_plugin.methods['same_table'].parallel(
        serial)._result()
print(same.view(pd.DataFrame).equals(serial.view(pd.DataFrame)))
import json
step, = json.load(open('same.json'))['steps']
print(step['executor'], step['pid'] != os.getpid())
''')
    assert (status, printed) == ('ok', 'True\nhtex True\n'), error


def test_config_loaded_once_used_by_two_blocks(session):
    block = '''
with ParallelConfig(config, mapping):
    counts, = demo.pipelines.count_kmers.parallel(
        sequences, k=3, partitions=2)._result()
print('equal to serial:', counts.view(pd.DataFrame).equals(
    serial.view(pd.DataFrame)))
'''
    for _ in range(2):
        status, printed, error = session.run(block)
        assert (status, printed) == ('ok', 'equal to serial: True\n'), error


def test_kernel_shutdown_leaves_no_process(session):
    """Last in this module: ends the session's kernel."""
    session.shutdown()
    assert_nothing_left(session.home)
