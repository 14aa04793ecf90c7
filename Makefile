# linkmesh: `make run` starts everything, `make test` runs every test.
# Both set up the virtualenv first; nothing needs to be installed by hand.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# A connector is its folder plus its line here: everything else discovers it from the
# linkmesh.connectors entry point in its pyproject.toml (docs/adding-a-connector.md).
CONNECTORS += services/connector-bigcommerce
CONNECTORS += services/connector-magento
CONNECTORS += services/connector-returnlogic
CONNECTORS += services/connector-lookup-adaptor
CONNECTORS += services/connector-shopify
PACKAGES := libs/core services/profile $(CONNECTORS) gateway sandboxes tools/devstack
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))
# Node packages the tests run (a certified OpenID provider), pinned by tests/node/package-lock.json.
NODE_DIR   := tests/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: all install run reset test proto deploy-files compose-env bench clean new-connector

all: test

$(STAMP): constraints.txt requirements-dev.txt $(PYPROJECTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt pip setuptools wheel
	$(BIN)/python -m pip install --quiet --no-build-isolation -c constraints.txt \
		-r requirements-dev.txt $(addprefix -e ,$(PACKAGES))
	touch $@

# The console's browser tests drive Debian's Chromium: installed here when missing (CI runs as root).
BROWSER_STAMP := $(VENV)/.browser
$(BROWSER_STAMP):
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else echo "the browser tests need Chromium: apt-get install chromium (as root), then make test again"; exit 1; fi
	@mkdir -p $(VENV) && touch $@

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "make test needs Node.js 20.19+ and npm (the tests run an OpenID provider on it)"; exit 1; }
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP) $(NODE_STAMP)

# make run RUN_ARGS="--free-ports --data-dir /tmp/linkmesh": any free ports, data kept elsewhere.
run: $(STAMP)
	$(BIN)/python -m linkmesh_devstack run $(RUN_ARGS)

# Forget what make run kept (linkmesh's data and the sandboxes' vendor data, together).
reset: $(STAMP)
	$(BIN)/python -m linkmesh_devstack reset

# Lint and format (ruff.toml) and types (mypy.ini) first: a finding of any fails the run.
test: $(STAMP) $(NODE_STAMP) $(BROWSER_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

proto: $(STAMP)
	$(BIN)/python -m linkmesh_devstack.protogen

# A new read-only connector on the SDK (linkmesh_core.sdk), its vendor sandbox and its test: make new-connector NAME=acme
new-connector: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make new-connector NAME=acme (the app type: lowercase letters, digits and _)"; exit 1; }
	$(BIN)/python -m linkmesh_devstack.new_connector $(NAME)

# The connectors' parts of docker-compose*.yml and deploy/kubernetes, from each connector's declaration.
deploy-files: $(STAMP)
	$(BIN)/python -m linkmesh_devstack.deployfiles

# docker compose's .env: the key that encrypts vendor secrets, API tokens, MongoDB's passwords (new, random; never overwritten).
compose-env: $(STAMP)
	@test ! -e .env || { echo ".env exists: it holds the passwords the database was set up with; delete it to start over"; exit 1; }
	umask 077 && $(BIN)/python -m linkmesh_devstack.database_users compose-env > .env
	@echo "wrote .env"

bench: $(STAMP) $(BROWSER_STAMP)
	$(BIN)/python bench/architecture.py
	$(BIN)/python bench/typed_domain.py
	$(BIN)/python bench/grpc_floor.py
	$(BIN)/python bench/fanout_search.py
	$(BIN)/python bench/mesh_load.py
	$(BIN)/python bench/profile_open.py
	$(BIN)/python bench/big_profile.py
	$(BIN)/python bench/several_stores.py
	$(BIN)/python bench/failure_budget.py
	$(BIN)/python bench/db_calls.py
	$(BIN)/python bench/console_paint.py
	$(BIN)/python bench/cpu_profile.py
	$(BIN)/python bench/replicas.py
	$(BIN)/python bench/durability.py
	$(BIN)/python bench/events.py

clean:
	rm -rf $(VENV) .pytest_cache
