"""The run report (`--parallel-report`, `ParallelConfig(report=...)`):
reports of real runs (threads, HTEX, a failed and an interrupted `qiime`
run) are drawn by a real headless browser, whose DOM must show one lane per
place a step ran and one bar per step, in its lane, without a script error;
a screenshot of each is kept in the test's tmp folder.  The run's outputs
and provenance are the same with the report as without."""
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from qiime2.plugins import paralleltest

from q2_parallel import ParallelConfig, ParallelError
from q2_parallel.report import statistics
from tests.engine_support import (int_list, mixed_config,
                                  provenance_actions, thread_config)
from tests.helpers import parallel_config_toml, run_qiime
from tests.test_cli_deployment import words
from tests.test_cli_run import wait_for_step
from tests.test_faults import QiimeRun, home  # noqa: F401 (a fixture)

CHROMIUM = shutil.which('chromium')
needs_browser = pytest.mark.skipif(
    CHROMIUM is None, reason='Chromium is not installed: '
    'scripts/install-chromium.sh (run by make dev) installs it')
# square_all of 20 integers in 4 partitions: 4 splits, 4 squares, 1 merge.
SQUARE_ALL_STEPS = 9


class DrawnPage(HTMLParser):
    """What the browser drew: the attributes of <html>, the lanes, and for
    each step bar the lane it is drawn in."""

    def __init__(self, dom):
        super().__init__()
        self.root = {}
        self.lanes = []
        self.bars = {}
        self._groups = []
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get('class') or '').split()
        if tag == 'html':
            self.root = attrs
        elif tag == 'g':
            lane = attrs.get('data-lane') if 'lane' in classes else None
            if lane is not None:
                self.lanes.append(int(lane))
            self._groups.append(lane)
        elif tag == 'rect' and 'bar' in classes:
            lanes = [lane for lane in self._groups if lane is not None]
            self.bars[int(attrs['data-step'])] = (
                int(lanes[-1]) if lanes else None, classes)

    def handle_endtag(self, tag):
        if tag == 'g':
            self._groups.pop()


def open_in_browser(page, folder):
    """The DOM of ``page`` once its scripts ran in headless Chromium, and a
    screenshot kept as ``folder/<page>.png``."""
    common = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu',
              '--no-first-run', f'--user-data-dir={folder / "chromium"}']
    uri = page.resolve().as_uri()
    dom = subprocess.run(common + ['--dump-dom', uri], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    screenshot = folder / (page.stem + '.png')
    subprocess.run(common + [f'--screenshot={screenshot}',
                             '--window-size=1200,1000', uri],
                   capture_output=True, timeout=60, check=True)
    assert screenshot.stat().st_size > 0
    return DrawnPage(dom)


def report_facts(page):
    """The JSON facts beside the report ``page``; also checks that the
    page stands alone (no file or address it would fetch)."""
    html = page.read_text()
    assert not re.search(r'\b(src|href)\s*=', html)
    assert set(re.findall(r'url\(([^)]*)\)', html)) <= {'#hatch'}
    assert set(re.findall(r'https?://[^\s"\')]+', html)) <= {
        'http://www.w3.org/2000/svg'}
    return json.loads(page.with_suffix('.json').read_text())


def assert_drawn(page, facts, folder):
    """The browser drew every lane and every step's bar in its lane."""
    drawn = open_in_browser(page, folder)
    assert 'data-report-error' not in drawn.root, drawn.root
    assert drawn.root['data-report-drawn'] == str(len(facts['steps']))
    assert drawn.lanes == [lane['id'] for lane in facts['lanes']]
    assert {step: lane for step, (lane, _) in drawn.bars.items()} == {
        step['id']: step['lane'] for step in facts['steps']}
    return drawn


def assert_consistent(facts):
    """Times in order for every step that ran; the critical path is a
    chain of steps each depending on the one before."""
    for step in facts['steps']:
        if step['ended'] is None:
            continue
        assert (step['invoked'] <= step['ready'] <= step['launched']
                <= step['started'] <= step['ended'] <= step['returned']
                <= facts['wall_seconds']), step
    path = facts['critical_path']['steps']
    for before, after in zip(path, path[1:]):
        assert before in facts['steps'][after]['depends']
    assert facts['critical_path']['seconds'] <= facts['step_seconds']
    for share in ('startup', 'waiting_for_workers', 'steps_on_main_process'):
        assert 0 <= facts[share]['share'] <= 1 and facts[share]['advice']


def square_all(config, mapping, report=None):
    with ParallelConfig(config, mapping, report=report):
        return paralleltest.pipelines.square_all.parallel(
            int_list(range(20)), partitions=4)._result().squared


def test_thread_run_reports_each_thread_and_step_and_changes_no_output(
        tmp_path):
    page = tmp_path / 'run.html'
    with_report = square_all(thread_config(2), {}, report=page)
    without = square_all(thread_config(2), {})
    assert with_report.view(list) == without.view(list)
    assert provenance_actions(with_report) == provenance_actions(without)

    facts = report_facts(page)
    assert facts['outcome'] == 'succeeded'
    assert len(facts['steps']) == SQUARE_ALL_STEPS
    assert {step['state'] for step in facts['steps']} == {'done'}
    assert sorted(step['name'] for step in facts['steps']) == sorted(
        ['paralleltest split-ints'] * 4 + ['paralleltest square'] * 4
        + ['paralleltest merge-ints'])
    assert len(facts['lanes']) == 2  # the pool's 2 threads, used or not
    assert {lane['kind'] for lane in facts['lanes']} <= {'thread', 'idle'}
    assert {lane['kind'] for lane in facts['lanes']
            if lane['id'] in {step['lane'] for step in facts['steps']}} \
        == {'thread'}
    assert facts['parallelism']['capacity'] == 2
    assert 1 <= facts['parallelism']['peak'] <= 2
    assert facts['critical_path']['steps'][-1] == SQUARE_ALL_STEPS - 1
    assert_consistent(facts)


def test_failed_python_run_names_its_report_on_the_error(tmp_path):
    page = tmp_path / 'failed.html'
    with pytest.raises(ValueError) as raised:
        with ParallelConfig(thread_config(2), {}, report=page):
            paralleltest.pipelines.square_then_fail.parallel(
                int_list([1, 2]))._result()
    assert f'Report of this run: {page}' in raised.value.__notes__
    facts = report_facts(page)
    assert facts['outcome'] == 'failed'
    assert [(step['name'], step['state']) for step in facts['steps']] == [
        ('paralleltest square', 'done'), ('paralleltest fail', 'failed'),
        ('paralleltest merge-ints', 'input failed')]
    assert facts['lanes'][facts['steps'][2]['lane']]['kind'] == \
        'not started'


def made_up_step(number, started, ended, depends=()):
    return {'id': number, 'executor': 'default', 'depends': list(depends),
            'invoked': 0.0, 'ready': started, 'launched': started,
            'started': started, 'ended': ended}


THREADS_2 = [{'label': 'default', 'class': 'ThreadPoolExecutor',
              'capacity': 2, 'ready': 0.0, 'steps': 3}]


def test_numbers_follow_the_longest_chain_and_overlaps():
    steps = [made_up_step(0, 0.0, 1.0), made_up_step(1, 0.0, 0.5),
             made_up_step(2, 1.0, 3.0, depends=[0, 1])]
    numbers = statistics.numbers(steps, THREADS_2, wall=4.0)
    assert numbers['critical_path']['steps'] == [0, 2]
    assert numbers['critical_path']['seconds'] == 3.0
    assert numbers['step_seconds'] == 3.5
    assert numbers['parallelism']['peak'] == 2
    assert numbers['steps_on_main_process']['seconds'] == 3.0


def test_numbers_of_a_run_stopped_before_any_step_ended():
    steps = [made_up_step(0, 0.5, None), made_up_step(1, None, None, [0])]
    numbers = statistics.numbers(steps, THREADS_2, wall=2.0)
    assert numbers['critical_path']['steps'] == []
    assert numbers['step_seconds'] == 0.0
    assert numbers['parallelism']['peak'] == 0


def test_report_path_that_cannot_be_written_stops_before_the_run(tmp_path):
    missing = tmp_path / 'missing' / 'run.html'
    for path, why in [(missing, f'the folder {missing.parent} does not'),
                      (tmp_path, 'it is a folder'),
                      (tmp_path / 'run.json', 'the JSON file')]:
        with pytest.raises(ParallelError) as raised:
            square_all(thread_config(2), {}, report=path)
        message = str(raised.value)
        assert f'cannot be written to {path}' in message and why in message
        assert 'Nothing was run' in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@needs_browser
def test_thread_report_draws_in_a_browser(tmp_path):
    page = tmp_path / 'threads.html'
    square_all(thread_config(2), {}, report=page)
    facts = report_facts(page)
    assert_drawn(page, facts, tmp_path)


@pytest.mark.slow
@needs_browser
def test_htex_report_shows_each_worker_and_its_start_up(tmp_path):
    page = tmp_path / 'htex.html'
    square_all(mixed_config(), {'square': 'htex'}, report=page)
    facts = report_facts(page)
    assert_consistent(facts)
    lanes = {lane['id']: lane for lane in facts['lanes']}
    on_workers = [step for step in facts['steps']
                  if step['executor'] == 'htex']
    assert len(on_workers) == 4
    for step in on_workers:
        lane = lanes[step['lane']]
        assert lane['kind'] == 'worker' and lane['block'] == '0'
        assert lane['worker'] in ('0', '1')
        assert step['pid'] != os.getpid()
        assert 0 < lane['ready'] <= step['started']
    htex, = [e for e in facts['executors'] if e['label'] == 'htex']
    # (workers forked from the run can be ready before Parsl's start ends)
    assert htex['capacity'] == 2
    assert 0 < htex['ready'] <= min(step['started'] for step in on_workers)
    assert facts['startup']['seconds'] >= htex['ready']
    assert_drawn(page, facts, tmp_path)


@pytest.fixture(scope='module')
def cli_env(home):  # noqa: F811
    """`qiime` with the `cli-test` plugin (test_faults' `home`)."""
    return home


def sum_of_squares_command(folder, *options, a=2, delay=0.0):
    config = folder / 'parallel.toml'
    config.write_text(parallel_config_toml())
    (folder / 'out').mkdir()
    return ['cli-test', 'sum-of-squares', '--p-a', str(a), '--p-b', '3',
            '--p-delay', str(delay), '--o-total', str(folder / 'out' / 't'),
            '--o-square-of-a', str(folder / 'out' / 's'),
            '--parallel-config', str(config), *options]


def assert_report_named(stderr, page):
    assert f'its report is kept in {page}' in words(stderr)


@pytest.mark.slow
@needs_browser
def test_failed_cli_run_keeps_its_report_and_names_it(tmp_path, cli_env):
    page = tmp_path / 'failed.html'
    result = run_qiime(*sum_of_squares_command(  # steps run, not reused
        tmp_path, '--parallel-report', str(page), '--no-recycle', a=13),
        env=cli_env, cwd=tmp_path)
    assert result.returncode == 1
    assert_report_named(result.stderr, page)
    assert list((tmp_path / 'out').iterdir()) == []
    facts = report_facts(page)
    assert facts['outcome'] == 'failed'
    assert 'cli-test square failed' in facts['headline']
    states = {(step['name'], step['state']) for step in facts['steps']}
    assert {('cli-test square', 'failed'), ('cli-test square', 'done'),
            ('cli-test add', 'input failed')} <= states
    assert all(step['retries'] == 0 for step in facts['steps'])
    drawn = assert_drawn(page, facts, tmp_path)
    failed, = [step['id'] for step in facts['steps']
               if step['state'] == 'failed']
    assert 'failed' in drawn.bars[failed][1]


@pytest.mark.slow
@needs_browser
def test_interrupted_cli_run_keeps_its_report_and_names_it(
        tmp_path, cli_env):
    page = tmp_path / 'interrupted.html'
    run = QiimeRun(sum_of_squares_command(tmp_path, '--parallel-report',
                                          str(page), delay=60),
                   cli_env, tmp_path, terminal=True,
                   CLI_TEST_TRACE=tmp_path / 'trace')
    wait_for_step(tmp_path / 'trace', 'square', run.process)
    run.ctrl_c()
    status, _, stderr = run.finish(timeout=30)
    assert status == 130, stderr
    stderr = re.sub(r'\x1b\[[0-9;]*[A-Za-z]', '', stderr)
    assert_report_named(stderr, page)
    assert list((tmp_path / 'out').iterdir()) == []
    facts = report_facts(page)
    assert facts['outcome'] == 'interrupted'
    running = [step for step in facts['steps'] if step['state'] == 'running']
    assert running and all(step['stopped_while_running']
                           and step['name'] == 'cli-test square'
                           for step in running)
    drawn = assert_drawn(page, facts, tmp_path)
    assert all('running' in drawn.bars[step['id']][1] for step in running)


@pytest.mark.slow
def test_cli_report_needs_a_parallel_run_and_a_folder_that_exists(
        tmp_path, cli_env):
    shown = run_qiime('cli-test', 'sum-of-squares', '--help', env=cli_env)
    assert '--parallel-report FILE' in shown.stdout
    command = sum_of_squares_command(tmp_path, '--parallel-report',
                                     str(tmp_path / 'run.html'))
    without_parallel = command[:command.index('--parallel-config')] \
        + ['--parallel-report', str(tmp_path / 'run.html')]
    result = run_qiime(*without_parallel, env=cli_env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'Error: --parallel-report works only in a parallel run: add '
        '--parallel or --parallel-config FILE.']

    missing = tmp_path / 'missing' / 'run.html'
    result = run_qiime(*command[:-1], str(missing), env=cli_env)
    assert result.returncode == 1
    stderr = words(result.stderr)
    assert 'The --parallel-report path cannot be used' in stderr
    assert 'Nothing was run' in stderr
    assert f'cannot be written to {missing}' in stderr
    assert 'Traceback' not in stderr
    assert list((tmp_path / 'out').iterdir()) == []
