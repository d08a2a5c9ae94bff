# q2-parallel developer commands.  `make test` and `make demo` build the
# environment first when it is missing (see scripts/bootstrap-venv.sh).
VENV := .venv
PYTHON := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: dev test lint demo bench clean

dev:
	@bash scripts/bootstrap-venv.sh

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
