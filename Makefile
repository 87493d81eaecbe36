# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint servers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# The whole move against the embedded lab (full screen in a terminal); e.g. make demo DEMO_ARGS="--speed 3".
DEMO_ARGS ?=

demo: $(STAMP)
	$(BIN)/cockpit check sample-plans/*.yaml
	$(BIN)/cockpit demo $(DEMO_ARGS)

# Real servers the integration tests need (OpenSSH sshd, BIND, PowerDNS, Postfix, tmux, headless Chromium); installed
# only when missing and root (Postfix with no configuration of its own: the tests run private instances).
servers:
	@missing=""; \
	[ -x /usr/sbin/sshd ] || missing="$$missing openssh-server openssh-client"; \
	[ -x /usr/sbin/named ] || missing="$$missing bind9"; \
	command -v tsig-keygen >/dev/null 2>&1 || missing="$$missing bind9-utils"; \
	command -v dig >/dev/null 2>&1 || missing="$$missing bind9-dnsutils"; \
	command -v tmux >/dev/null 2>&1 || missing="$$missing tmux"; \
	[ -x /usr/sbin/postfix ] || missing="$$missing postfix"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	[ -x /usr/sbin/pdns_server ] && [ -f /usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql ] || missing="$$missing pdns-server pdns-backend-sqlite3"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "not root: cannot install$$missing (integration tests that need them will skip, or fail under CI=true)"; \
	  fi; \
	fi

LINTED := cockpit tests $(wildcard bench)

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) servers lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
