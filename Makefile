# q2-parallel developer commands.
#
# Environment profiles (profiles/README.md): debian-2022.11 (.venv/, Python
# 3.11, current Parsl) and conda-2022.11 (.venv-conda-2022.11/, Python 3.8,
# Parsl 2024.10.07) run the whole suite; qiime2-2024.5 (a later framework
# with its own engine) runs only the step-aside smoke tests.
# `make test` builds what is missing (scripts/bootstrap-venv.sh) and tests
# every profile; `make test PROFILES=conda-2022.11` tests one; `make
# test-fast` runs only the quick tests (no HTEX workers, Slurm, Jupyter
# kernels or `qiime` subprocesses).  Debian's Slurm is installed for the
# cluster tests when missing (scripts/install-slurm.sh; without it those
# tests are skipped), and Debian's Chromium for the report's browser tests
# (scripts/install-chromium.sh; likewise).  `make bench` also builds
# plugins-2022.11 (Debian's real QIIME 2 plugins, for the plugin start-up
# benchmark); `make dev` and `make test` never do.
PROFILES ?= debian-2022.11 conda-2022.11
NEWER_FRAMEWORK := qiime2-2024.5
BENCH_PROFILE := plugins-2022.11
# `make demo` and `make bench` use the first profile's venv; `make bench`
# also runs QIIME 2 2024.5's own engine from the qiime2-2024.5 venv, side by
# side (BENCH_ARGS="--only compare" or "--quick": see benchmarks/run.py).
VENV := $(shell . profiles/$(firstword $(PROFILES)).env && echo $$VENV_NAME)
PYTHON := $(VENV)/bin/python

.PHONY: dev test test-fast lint demo bench clean

dev:
	@for profile in $(PROFILES) $(NEWER_FRAMEWORK); do \
	    bash scripts/bootstrap-venv.sh $$profile || exit 1; done
	@bash scripts/install-slurm.sh || echo "make dev: Slurm not installed; the Slurm tests will be skipped" >&2
	@bash scripts/install-chromium.sh || echo "make dev: Chromium not installed; the report's browser tests will be skipped" >&2

lint: dev
	$(PYTHON) -m flake8 q2_parallel tests benchmarks

# Every profile runs even when one fails, so one run shows all failures.
test: lint
	@status=0; \
	for profile in $(PROFILES); do \
	    bash scripts/run-tests.sh $$profile tests -m "not newer_framework" || status=1; \
	done; \
	bash scripts/run-tests.sh $(NEWER_FRAMEWORK) tests/test_newer_framework.py || status=1; \
	exit $$status

test-fast: dev
	bash scripts/run-tests.sh $(firstword $(PROFILES)) tests -m "not slow and not newer_framework"

demo: dev
	@PATH=$(CURDIR)/$(VENV)/bin:$$PATH bash scripts/demo.sh

BENCH_ARGS ?=
bench: dev
	@bash scripts/bootstrap-venv.sh $(BENCH_PROFILE)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PYTHON) benchmarks/run.py --plugins-profile $(BENCH_PROFILE) $(BENCH_ARGS)

clean:
	rm -rf .venv .venv-* build *.egg-info demo-output
