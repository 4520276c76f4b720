# pinggu: the commands a newcomer needs. See README.md.
VENV := .venv
PY := $(VENV)/bin/python
PINGGU := $(VENV)/bin/pinggu
SUPERVISORD := $(VENV)/bin/supervisord -c etc/supervisord.conf
SUPERVISORCTL := $(VENV)/bin/supervisorctl -c etc/supervisord.conf

# The demo clerk's desk password (a demo's only: `pinggu operator password` sets real ones).
DEMO_PASSWORD := taiyuan-demo-2023

.PHONY: venv up down status demo test bench chaos chaos-ci clean schemas bench-national bench-national-short

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

# Start the four services, the portal and the desk in the background; return once every one
# answers.
# The broker's users and the database's roles are provisioned first (idempotent;
# docs/security.md).
up: venv
	@mkdir -p var/log
	@if [ -S var/supervisor.sock ] && $(SUPERVISORCTL) status >/dev/null 2>&1; then \
		echo "services already running"; else $(PY) -m services.provision && $(SUPERVISORD); fi
	@$(PINGGU) health --wait 60
	@$(PY) -m services.portal_server --wait 60
	@$(PY) -m services.desk.server --wait 60

down:
	@if [ -S var/supervisor.sock ] && $(SUPERVISORCTL) status >/dev/null 2>&1; then \
		$(SUPERVISORCTL) shutdown; \
		while [ -e var/supervisord.pid ]; do sleep 0.2; done; \
	else echo "not running"; fi

status:
	@$(SUPERVISORCTL) status

# The main job: the demo campaign through to the published notice, on a fresh cluster
# started for simulation (the demo moves the business date; `make up` runs on the wall clock).
demo: venv
	@$(MAKE) --no-print-directory down >/dev/null
	$(PY) -m services.reset --yes
	@PINGGU_SIMULATED_CLOCK=1 $(MAKE) --no-print-directory up
	PINGGU_SIMULATED_CLOCK=1 $(PY) -m services.demo
	@echo "$(DEMO_PASSWORD)" | $(PINGGU) --operator province operator password city-140100 \
		--password-stdin >/dev/null
	@echo "desk: http://127.0.0.1:$${PINGGU_DESK_PORT:-8024}/ — sign in as city-140100 (太原市), password $(DEMO_PASSWORD)"

test: venv
	$(PY) -m pytest -q

# The published contract, generated from shared/contracts: docs/schemas/*.json and
# docs/asyncapi.yaml (docs/integration.md). Commit the result; the unit tests check it.
schemas: venv
	$(PY) -m shared.contracts.generate

bench: venv
	$(PY) bench/run.py

# The national campaign at 1k, 10k and 100k institutions, 2 instances per service (long);
# the short one (N = 2,000, for CI) stops at the verdicts.
bench-national: venv
	$(PY) bench/national.py --institutions 1000,10000,100000

bench-national-short: venv
	$(PY) bench/national.py --institutions 2000 --no-publish

# The fault-injection suite (tests/chaos, docs/operations.md): the province campaign under
# faults against a clean reference. `chaos` restarts the machine's RabbitMQ and PostgreSQL
# mid-campaign: run it only where nothing else uses them (CI). `chaos-ci` leaves them be.
chaos: venv
	$(PY) -m tests.chaos.run --with-server-restarts

chaos-ci: venv
	$(PY) -m tests.chaos.run --short

clean: down
	rm -rf var
