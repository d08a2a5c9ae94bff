"""q2-parallel benchmarks (``make bench``): figures on this machine.

Never run by ``make test``: timings belong here, not in assertions.
Sections, in the order they run (``--only NAME``, repeatable, picks some):

- ``compare``: the side-by-side comparison of whole `qiime` processes:
  serial QIIME 2 2022.11, q2-parallel, and QIIME 2 2024.5's own engine
  (``side_by_side.py``).
- ``plugins``: worker start-up with Debian's real QIIME 2 plugins, in the
  plugins-2022.11 venv (``plugin_startup.py``): loading the plugins once,
  the first HTEX step's start, ``align-to-tree-mafft-fasttree``.
- ``cpu-bound``, ``engine-cost``, ``cli-startup``, ``report``,
  ``recycling``, ``load``: q2-parallel's own costs, measured inside this
  process (``own_engine.py``).

``--quick`` runs a smoke version (less work, one run each; the report,
recycling and load sections are left out): figures not to quote.
"""
import argparse
import signal

import side_by_side

OWN_ENGINE = ('cpu-bound', 'engine-cost', 'cli-startup', 'report',
              'recycling', 'load')
SECTIONS = ('compare', 'plugins') + OWN_ENGINE


def _stop(signum, frame):
    raise SystemExit(f'benchmarks: stopped by signal {signum}')


def main():
    # Ctrl-C and SIGTERM unwind: the measured run's processes are ended and
    # the benchmark's folders removed on the way out (SIGINT is handled even
    # when a shell started this in the background with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='less work and one run each, for a smoke run')
    parser.add_argument('--only', action='append', choices=SECTIONS,
                        metavar='SECTION',
                        help=f'run only this section (repeatable): '
                             f'{", ".join(SECTIONS)}')
    parser.add_argument('--plugins-profile', default='plugins-2022.11',
                        help='the profile of the plugin start-up benchmark')
    args = parser.parse_args()
    chosen = [s for s in SECTIONS if s in (args.only or SECTIONS)]
    if 'compare' in chosen:
        print('## Side by side\n', flush=True)
        side_by_side.main(quick=args.quick)
    if 'plugins' in chosen:
        from plugin_startup import report as plugin_startup_report

        print('\n## plugins\n', flush=True)
        plugin_startup_report(repeats=1 if args.quick else 5,
                              profile=args.plugins_profile)
    own = [s for s in chosen if s in OWN_ENGINE]
    if own:
        import own_engine  # imports QIIME 2: only when its sections run
        for name in own:
            printer, in_quick = own_engine.SECTIONS[name]
            if args.quick and not in_quick and not args.only:
                continue
            print(f'\n## {name}\n', flush=True)
            printer(quick=args.quick)


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit('benchmarks: stopped (Ctrl-C)')
