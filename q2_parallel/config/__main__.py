"""See, check and write parallel config files.

    python -m q2_parallel.config show             which file is in effect, why,
                                                  and what it resolves to
    python -m q2_parallel.config validate FILE    check a file without running
    python -m q2_parallel.config init PATH [--cluster slurm]
                                                  write a starting file
"""
import click

from q2_parallel.internals import qiime2_private

from .default import default_config_text, slurm_config_text, write_new_file
from .encryption import describe
from .errors import ConfigError, warn_unknown_entries
from .lookup import BUILT_IN_SOURCE, check_default, find_config
from .mapping import mapping_entries, unknown_entries
from .parse import build_config, check_file

_TEMPLATES = {'none': default_config_text, 'slurm': slurm_config_text}


@click.group(help=__doc__.split('\n')[0])
def main():
    pass


@main.command()
def show():
    """Show the config file `--parallel` would use, which lookup step found
    it and why, and the executors and mapping it resolves to. Writes
    nothing."""
    found = _or_exit(find_config, write_default=False)
    if found.path is None:
        plan, mapping = check_default()
    else:
        plan, mapping = _or_exit(_check_and_build, found.path)
    click.echo(f'Engine:      {_engine_in_charge()}')
    click.echo(f'Config file: {found.path or BUILT_IN_SOURCE}')
    click.echo(f'Found by:    {found.reason}')
    _echo_resolved(plan, mapping)
    warn_unknown_entries(_unknown_entries(mapping), found.path)


def _engine_in_charge():
    """Who runs `--parallel` with this file in this environment."""
    from q2_parallel.internals import qiime2_private

    release = qiime2_private.release()
    if qiime2_private.is_known_release():
        return f'q2-parallel (QIIME 2 {release} has no engine of its own)'
    if qiime2_private.has_own_engine():
        return (f"QIIME 2 {release}'s own (q2-parallel steps aside; this"
                ' file is read by both)')
    return (f'none (q2-parallel knows the internals of QIIME 2'
            f' {qiime2_private.KNOWN_RELEASE} only, not of {release})')


@main.command()
@click.argument('file')
def validate(file):
    """Check FILE and build its Parsl objects without starting them."""
    plan, mapping = _or_exit(_check_and_build, file)
    unknown = list(_unknown_entries(mapping))
    if unknown:
        raise click.ClickException('\n'.join(
            str(ConfigError(f'{problem} An entry that maps nothing leaves'
                            ' the action on "default".', key=key,
                            source=file))
            for key, problem in unknown))
    click.echo(f'{file} is a valid parallel config.')
    _echo_resolved(plan, mapping)


@main.command()
@click.argument('path', type=click.Path(dir_okay=False))
@click.option('--cluster', type=click.Choice(sorted(_TEMPLATES)),
              default='none', show_default=True,
              help='none: this machine only (the default config, sized for'
                   ' its CPUs); slurm: a starting point for a Slurm cluster.')
def init(path, cluster):
    """Write a starting config file to PATH (never over an existing file)."""
    try:
        write_new_file(path, _TEMPLATES[cluster]())
    except FileExistsError:
        raise click.ClickException(f'{path} already exists; it was left as'
                                   ' it is. Choose another path.')
    except OSError as err:
        raise click.ClickException(f'{path} could not be written:'
                                   f' {err.strerror or err}.')
    click.echo(f'Wrote {path}. Check it after editing with:'
               f' python -m q2_parallel.config validate {path}')


def _unknown_entries(mapping):
    """Entries of `mapping` that name no action or plugin installed here."""
    return unknown_entries(mapping, qiime2_private.installed_actions())


def _check_and_build(path):
    """The plan and mapping of the file at `path`, its Parsl objects built
    once and dropped, so that Parsl's own checks run too."""
    plan, mapping = check_file(path)
    build_config(plan, path)
    return plan, mapping


def _or_exit(function, *args, **kwargs):
    """Run `function`; a ConfigError becomes a message and exit status 1."""
    try:
        return function(*args, **kwargs)
    except ConfigError as err:
        raise click.ClickException(str(err))


def _echo_resolved(plan, mapping):
    if plan is None:
        click.echo('Executors:   none (this file only maps actions)')
    else:
        click.echo('Executors:')
        for executor in plan.executors:
            click.echo(f'  {executor.kwargs["label"]}: {executor!r}')
            security = describe(executor)
            if security is not None:
                click.echo(f'    ({security})')
        click.echo('Settings:    ' + ', '.join(
            f'{name}={value!r}' for name, value in plan.settings.items()))
    entries = [f'  {key.split(".", 2)[2]} -> {label}'
               for key, label in mapping_entries(mapping)]
    click.echo('Mapping:' + ('\n' + '\n'.join(entries) if entries else
                             '     none (every action runs on "default")'))


if __name__ == '__main__':
    main(prog_name='python -m q2_parallel.config')
