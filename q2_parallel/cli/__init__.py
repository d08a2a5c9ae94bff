"""The q2cli side of q2-parallel: `--parallel` and `--parallel-config` on
every Pipeline of the stock `qiime` command.

`hook` extends q2cli as it is imported (a `.pth` file installs it at
interpreter start-up); `run` carries out a parallel run; `progress` shows
its progress on a terminal.  Nothing here is imported by the plugin itself.
"""
