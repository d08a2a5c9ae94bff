# q2-parallel developer commands.  `make test` and `make demo` build the
# environment first when it is missing (scripts/bootstrap-venv.sh), and
# install Debian's Slurm for the cluster tests when it is missing
# (scripts/install-slurm.sh; without it those tests are skipped).
VENV := .venv
PYTHON := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: dev test lint demo bench clean

dev:
	@bash scripts/bootstrap-venv.sh
	@bash scripts/install-slurm.sh || echo "make dev: Slurm not installed; the Slurm tests will be skipped" >&2

lint: dev
	$(PYTHON) -m flake8 q2_parallel tests benchmarks

test: lint
	$(PYTHON) -m pytest tests

demo: dev
	@bash scripts/demo.sh

bench: dev
	$(PYTHON) benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info demo-output
