# cryin-flows: `make demo` runs the main job on the embedded store, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the CPU build of torch first, so nothing pulls a CUDA build
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/cryin demo

lint: install
	$(BIN)/ruff check cryin_flows tests benchmarks
	$(BIN)/ruff format --check cryin_flows tests benchmarks

# the documentation site into site/, warnings as errors (broken links, undocumented makers)
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: lint docs
	@# a one-node SLURM for the `slurm` tests (root only; elsewhere they skip and say why)
	@if [ "$$(id -u)" = "0" ]; then bash .ci/slurm >/dev/null || echo "SLURM did not start"; fi
	$(BIN)/pytest -q

bench: install
	$(BIN)/python benchmarks/bench_interfaces.py

clean:
	rm -rf $(VENV) cryin_data site .pytest_cache .ruff_cache
