# One target per habit. Each bootstraps its own environment (Python 3.11+ and pip needed).
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-workspace

.PHONY: demo demo-local test test-tools lint bench bench-smoke clean system-packages

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode is compiled at install, as pip does for wheels: commands then start in about
# half the time, also where PYTHONDONTWRITEBYTECODE keeps Python from caching it itself.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras --compile-bytecode --python $(PYTHON)
	$(VENV)/bin/python -m compileall -q gates flows > /dev/null
	touch $@

## demo: the end-to-end scenario on a local SeaweedFS S3 server started (and stopped) for it
demo: $(VENV)/.synced
	rm -rf $(DEMO_DIR)
	$(BIN)/python -m infra.local.demo_s3 $(DEMO_DIR)

## demo-local: the same scenario with the ledger in a folder inside the workspace
demo-local: $(VENV)/.synced
	rm -rf $(DEMO_DIR)
	$(BIN)/stagegate demo --workspace $(DEMO_DIR)

## system-packages: Debian packages the tests and benchmarks use: SoftHSM2 (a PKCS#11 token
## in software, for the pkcs11: signer) and OpenSSH's ssh-agent (for the ssh-agent: signer).
## Installs only what is missing, and only as root.
SOFTHSM2_MODULE := /usr/lib/softhsm/libsofthsm2.so
system-packages:
	@missing=""; \
	[ -e $(SOFTHSM2_MODULE) ] || missing="$$missing softhsm2"; \
	command -v ssh-agent > /dev/null || missing="$$missing openssh-client"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing Debian packages:$$missing (as root: make system-packages)" >&2; \
	    exit 1; \
	  fi; \
	fi

## test: the whole suite against real SeaweedFS, SQLite MLflow, Great Expectations and Prefect
test: $(VENV)/.synced system-packages test-tools
	$(BIN)/pytest

# Debian packages the tests run for real (OpenSSL's TSA); installed only where missing.
test-tools:
	@command -v openssl > /dev/null || { apt-get update -qq && apt-get install -y -qq openssl; }

lint: $(VENV)/.synced
	$(BIN)/ruff check gates flows infra tests bench
	$(BIN)/ruff format --check gates flows infra tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

## bench: every benchmark at full size, printing figures and ratios (bench/README.md)
bench: $(VENV)/.synced system-packages
	$(BIN)/python -m bench

## bench-smoke: every benchmark at a tiny size, to show it still runs (CI); fails if one fails
bench-smoke: $(VENV)/.synced system-packages
	$(BIN)/python -m bench --smoke

clean:
	rm -rf $(VENV) $(TOOLS) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
