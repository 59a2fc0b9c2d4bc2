# Two commands on a fresh machine:  `make run` (set up, start the app)  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8050

.PHONY: run test venv system bench load clean

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/activate

venv: $(BIN)/activate

run: venv
	$(BIN)/lossviz --host $(HOST) --port $(PORT)

# Debian's chromium + chromium-driver (browser tests) and redis-server (the Celery path),
# installed when missing. No service is started here: the tests start their own.
system:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v redis-server >/dev/null || ( \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends chromium chromium-driver redis-server >/dev/null )

test: venv system
	HOME=$$(mktemp -d) PYTHON=$(BIN)/python tools/test

bench: venv system
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/bench_surface.py
	$(BIN)/python bench/bench_training.py
	HOME=$$(mktemp -d) $(BIN)/python bench/bench_browser.py

clean:
	rm -rf $(VENV) .pytest_cache
