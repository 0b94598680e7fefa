# gridcore: `make demo` and `make test` work on a fresh machine (they create .venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

# Compiled modules are kept (some shells set PYTHONDONTWRITEBYTECODE): the tests start servers,
# workers and CLI runs as processes of their own, and each would compile every module again.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: demo test bench lint clean simulate

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# uv installs the same versions pip would in a sixth of the time (CI starts from nothing);
	# --compile-bytecode does what pip does at install, for the processes the tests start
	$(BIN)/python -m pip install --quiet "uv>=0.13.9,<0.14"
	$(BIN)/python -m uv pip install --quiet --compile-bytecode --python $(BIN)/python \
		-e ".[postgres,kafka,api,dev,sim,notices]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gridcore demo

# One test worker more than the cores: many tests wait on a server, a broker, a browser or a
# process of their own, and a third worker on two cores fills those waits (13.6 minutes of tests
# with two workers, 11.5 with three, back to back on one 2-core machine).
WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile --no-loadscope-reorder

simulate: $(STAMP)
	$(BIN)/gridcore simulate 712 --out var/simulations/712

bench: $(STAMP)
	$(BIN)/python -m simulations.benchmarks.run $(BENCH)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy  # strict, for the files [tool.mypy] in pyproject.toml names

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
