"""The q2cli hook in a deployment: the options reach the stock `qiime` of
every plugin (also one that is not ours) on the first run, after
`qiime dev refresh-cache`, and q2cli keeps working without q2-parallel.

`install_cli_test_plugin` installs a small third-party plugin, `cli-test`,
for the tests of the CLI: a Pipeline (`sum-of-squares`), the Methods it
calls, and a Visualizer.  It is installed the way pip would (a package
beside its .dist-info folder) in a temporary folder put on PYTHONPATH.
"""
import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import REPO, isolated_env, run_qiime, venv_seeing_qiime

# Slow: runs the real qiime in subprocesses.
pytestmark = pytest.mark.slow

CLI_TEST_PLUGIN = textwrap.dedent('''\
    """A third-party plugin for the tests of q2-parallel's CLI hook.

    With $CLI_TEST_TRACE set, each step appends to that file a line with its
    name, process id and whether it ran in the main thread.  With
    $CLI_TEST_HOLD set, `square` runs a program (as a step runs an aligner)
    that ends once that file exists, and traces itself once it started.
    With $CLI_TEST_PRINT set, `square` prints a line, and so does a
    program it runs."""
    import os
    import subprocess
    import threading
    import time

    from qiime2.plugin import (Float, Int, Plugin, SemanticType,
                               TextFileFormat, model)

    Number = SemanticType('CliTestNumber')


    class NumberFormat(TextFileFormat):
        def _validate_(self, level):
            int(self.path.read_text())


    NumberDirFmt = model.SingleFileDirectoryFormat(
        'NumberDirFmt', 'number.txt', NumberFormat)

    plugin = Plugin(name='cli-test', version='0.0.1',
                    website='https://example.org', package='q2cli_testplugin',
                    description='Test plugin.', short_description='Test.')
    plugin.register_formats(NumberFormat, NumberDirFmt)
    plugin.register_semantic_types(Number)
    plugin.register_semantic_type_to_format(Number, NumberDirFmt)


    @plugin.register_transformer
    def _int_to_format(value: int) -> NumberFormat:
        ff = NumberFormat()
        ff.path.write_text(str(value))
        return ff


    @plugin.register_transformer
    def _format_to_int(ff: NumberFormat) -> int:
        return int(ff.path.read_text())


    def _trace(step):
        if 'CLI_TEST_TRACE' in os.environ:
            thread = ('main' if threading.current_thread()
                      is threading.main_thread() else 'thread')
            with open(os.environ['CLI_TEST_TRACE'], 'a') as fh:
                fh.write(f'{step} {os.getpid()} {thread}\\n')


    def _hold():
        if 'CLI_TEST_HOLD' in os.environ:
            return subprocess.Popen(
                ['sh', '-c', 'while [ ! -e "$1" ]; do sleep 0.1; done', 'sh',
                 os.environ['CLI_TEST_HOLD']])


    def make_number(value: int) -> int:
        _trace('make_number')
        return value


    def square(number: int, delay: float = 0.0) -> int:
        program = _hold()
        _trace('square')
        if 'CLI_TEST_PRINT' in os.environ:
            print(f'squaring {number}', flush=True)
            subprocess.run(['echo', f'a program squaring {number}'])
        if program is not None:
            program.wait()
        time.sleep(delay)
        if number == 13:
            raise ValueError('13 is an unlucky number to square')
        return number * number


    def add(x: int, y: int) -> int:
        return x + y


    def sum_of_squares(ctx, a, b, delay=0.0):
        _trace('sum_of_squares')
        make = ctx.get_action('cli_test', 'make_number')
        square = ctx.get_action('cli_test', 'square')
        add = ctx.get_action('cli_test', 'add')
        x, = make(value=a)
        y, = make(value=b)
        x2, = square(number=x, delay=delay)
        y2, = square(number=y, delay=delay)
        total, = add(x=x2, y=y2)
        return total, x2


    def show(output_dir: str, value: int) -> None:
        with open(output_dir + '/index.html', 'w') as fh:
            fh.write(str(value))


    plugin.methods.register_function(
        function=make_number, inputs={}, parameters={'value': Int},
        outputs=[('number', Number)], name='Make a number',
        description='Make a number artifact.')
    plugin.methods.register_function(
        function=square, inputs={'number': Number},
        parameters={'delay': Float}, outputs=[('squared', Number)],
        name='Square', description='Square a number (13 fails).')
    plugin.methods.register_function(
        function=add, inputs={'x': Number, 'y': Number}, parameters={},
        outputs=[('total', Number)], name='Add', description='Add two.')
    plugin.pipelines.register_function(
        function=sum_of_squares, inputs={},
        parameters={'a': Int, 'b': Int, 'delay': Float},
        outputs=[('total', Number), ('square_of_a', Number)],
        name='Sum of squares', description='a*a + b*b, steps in parallel.')
    plugin.visualizers.register_function(
        function=show, inputs={}, parameters={'value': Int},
        name='Show', description='Show a value.')
''')

DIST_INFO = {
    'METADATA': 'Metadata-Version: 2.1\nName: q2cli-testplugin\n'
                'Version: 0.0.1\n',
    'entry_points.txt': '[qiime2.plugins]\n'
                        'cli-test = q2cli_testplugin:plugin\n',
}
HOOK_PTH = REPO / 'q2_parallel' / 'cli' / 'q2_parallel-cli.pth'
PARALLEL_OPTIONS = ('--parallel ', '--parallel-config FILE')


def install_cli_test_plugin(site):
    """Install the `cli-test` plugin in `site`, a folder for PYTHONPATH."""
    (site / 'q2cli_testplugin.py').write_text(CLI_TEST_PLUGIN)
    dist_info = site / 'q2cli_testplugin-0.0.1.dist-info'
    dist_info.mkdir()
    for name, text in DIST_INFO.items():
        (dist_info / name).write_text(text)
    return site


@pytest.fixture(scope='module')
def cli_plugin_dir(tmp_path_factory):
    return install_cli_test_plugin(tmp_path_factory.mktemp('cli-test-plugin'))


def plugin_env(home, plugin_dir, **extra):
    """isolated_env with the `cli-test` plugin installed."""
    return isolated_env(home, PYTHONPATH=plugin_dir, **extra)


def has_parallel_options(help_text):
    return all(option in help_text for option in PARALLEL_OPTIONS)


def words(text):
    """`text` with q2cli's line wrapping undone."""
    return ' '.join(text.split())


def test_first_run_in_fresh_home_shows_options_on_pipelines_only(
        tmp_path, cli_plugin_dir):
    env = plugin_env(tmp_path, cli_plugin_dir)
    pipeline = run_qiime('cli-test', 'sum-of-squares', '--help', env=env)
    assert 'caching your current deployment' in pipeline.stderr
    assert pipeline.returncode == 0, pipeline.stderr
    assert has_parallel_options(pipeline.stdout)
    assert 'implies --parallel' in words(pipeline.stdout)
    assert 'the file named by $QIIME2_CONFIG' in words(pipeline.stdout)
    for action in ('square', 'show'):
        other = run_qiime('cli-test', action, '--help', env=env)
        assert other.returncode == 0, other.stderr
        assert '--parallel' not in other.stdout


def test_method_rejects_parallel_as_unknown_option(tmp_path, cli_plugin_dir):
    result = run_qiime('cli-test', 'make-number', '--p-value', '3',
                       '--o-number', str(tmp_path / 'n.qza'), '--parallel',
                       env=plugin_env(tmp_path, cli_plugin_dir))
    assert result.returncode != 0
    assert 'No such option: --parallel' in result.stderr
    assert not (tmp_path / 'n.qza').exists()


def test_options_survive_refresh_cache_and_stale_cache(
        tmp_path, cli_plugin_dir):
    env = plugin_env(tmp_path, cli_plugin_dir)
    refreshed = run_qiime('dev', 'refresh-cache', env=env)
    assert refreshed.returncode == 0, refreshed.stderr
    pipeline_help = ('cli-test', 'sum-of-squares', '--help')
    assert has_parallel_options(run_qiime(*pipeline_help, env=env).stdout)

    # A cache written by q2cli before the hook existed (no action types) is
    # refreshed once, and the options are there on that very run.
    state_file = tmp_path / '.config' / 'q2cli' / 'cache' / 'state.json'
    state = json.loads(state_file.read_text())
    for plugin in state['plugins'].values():
        for action in plugin['actions'].values():
            del action['type']
    state_file.write_text(json.dumps(state))
    stale = run_qiime(*pipeline_help, env=env)
    assert 'caching your current deployment' in stale.stderr
    assert has_parallel_options(stale.stdout)
    refreshed = json.loads(state_file.read_text())
    assert refreshed['plugins']['cli-test']['actions']['sum_of_squares'][
        'type'] == 'pipeline'


def test_every_pipeline_of_every_plugin_gets_the_options(
        tmp_path, cli_plugin_dir):
    """Every Pipeline, from the q2cli cache, ours and others' alike."""
    env = plugin_env(tmp_path, cli_plugin_dir)
    assert run_qiime('dev', 'refresh-cache', env=env).returncode == 0
    script = textwrap.dedent('''
        import json, sys
        from q2cli.core.cache import CACHE
        json.dump({name: {a['id']: a['type'] for a in p['actions'].values()}
                   for name, p in CACHE.plugins.items()}, sys.stdout)
    ''')
    listed = subprocess.run([sys.executable, '-c', script], env=env,
                            capture_output=True, text=True, check=True)
    types = json.loads(listed.stdout)
    assert types['cli-test']['sum_of_squares'] == 'pipeline'
    pipelines = [(plugin, action) for plugin, actions in types.items()
                 for action, kind in actions.items() if kind == 'pipeline']
    for plugin, action in pipelines:
        shown = run_qiime(plugin.replace('_', '-'),
                          action.replace('_', '-'), '--help', env=env)
        assert has_parallel_options(shown.stdout), (plugin, action)


@pytest.fixture(scope='module')
def venv_without_q2_parallel(tmp_path_factory):
    """The hook's .pth left behind without the package, as after
    `pip uninstall` of a development install."""
    site, qiime = venv_seeing_qiime(
        tmp_path_factory.mktemp('no-q2-parallel') / 'venv')
    shutil.copy(HOOK_PTH, site)
    return qiime


def test_wheel_install_gives_the_options(tmp_path, cli_plugin_dir):
    """The route of `pip install .` and of the conda recipe."""
    source = tmp_path / 'source'
    shutil.copytree(REPO / 'q2_parallel', source / 'q2_parallel',
                    ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copy(REPO / 'setup.py', source)
    pip = [sys.executable, '-m', 'pip', '-q']
    subprocess.run([*pip, 'wheel', '--no-deps', '--no-build-isolation',
                    str(source), '-w', str(tmp_path / 'dist')], check=True,
                   cwd=tmp_path)
    wheel, = (tmp_path / 'dist').glob('*.whl')
    site, qiime = venv_seeing_qiime(tmp_path / 'venv')
    subprocess.run([*pip, 'install', '--no-deps', '--target', str(site),
                    str(wheel)], check=True)
    assert (site / HOOK_PTH.name).exists()
    shown = subprocess.run(
        [str(qiime), 'cli-test', 'sum-of-squares', '--help'],
        env=plugin_env(tmp_path, cli_plugin_dir), capture_output=True,
        text=True)
    assert shown.returncode == 0, shown.stderr
    assert has_parallel_options(shown.stdout)


def test_q2cli_keeps_working_when_q2_parallel_is_gone(
        tmp_path, venv_without_q2_parallel):
    env = isolated_env(tmp_path)
    for args in (['info'], ['--help'], ['dev', 'refresh-cache']):
        result = subprocess.run([str(venv_without_q2_parallel), *args],
                                env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert 'Error' not in result.stderr and 'Traceback' not in \
            result.stderr
    info = subprocess.run([str(venv_without_q2_parallel), 'info'], env=env,
                          capture_output=True, text=True).stdout
    assert 'parallel' not in info


def test_a_failed_q2cli_patch_leaves_qiime_working_with_one_line(tmp_path):
    """Should extending q2cli fail (a q2cli that changed in a way the
    release check cannot see), `qiime` works without the two options, and
    says why in one line."""
    broken = tmp_path / 'broken'
    broken.mkdir()
    (broken / 'sitecustomize.py').write_text(textwrap.dedent('''
        from q2_parallel.internals import q2cli_private

        def extend_action_commands(*args):
            raise RuntimeError('ActionCommand has no _misc')

        q2cli_private.extend_action_commands = extend_action_commands
        '''))
    env = isolated_env(tmp_path / 'home', PYTHONPATH=broken)
    run_qiime('info', env=env)  # builds the cache
    shown = run_qiime('paralleltest', 'square-all', '--help', env=env)
    assert shown.returncode == 0, shown.stderr
    assert not has_parallel_options(shown.stdout)
    assert shown.stderr.splitlines() == [
        'q2-parallel: --parallel and --parallel-config are not available '
        '(extending q2cli failed: RuntimeError: ActionCommand has no _misc).']
    info = run_qiime('info', env=env)
    assert info.returncode == 0 and 'paralleltest' in info.stdout
