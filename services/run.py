"""Run one service as its own process: `python -m services.run registry`."""
import shared  # noqa: F401 - quiets eventlet's deprecation notice before it is imported
import eventlet  # noqa: E402

eventlet.monkey_patch()  # noqa: E402 - before anything imports socket or psycopg2

import gc  # noqa: E402
import importlib  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from shared import config as config_module, log  # noqa: E402

STOP_TIMEOUT = 10

SERVICES = {
    "registry": "services.registry.service:RegistryService",
    "evaluation": "services.evaluation.service:EvaluationService",
    "decisions": "services.decisions.service:DecisionsService",
    "notices": "services.notices.service:NoticesService",
}


def service_class(name):
    module, _, attr = SERVICES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in SERVICES:
        print(f"usage: python -m services.run {{{','.join(SERVICES)}}}", file=sys.stderr)
        return 2
    name = argv[0]
    # The process's role chooses its broker user and database role (shared/config.py).
    os.environ["PINGGU_ROLE"] = name
    try:
        config = config_module.load()
        config.check_production()
    except config_module.ConfigError as exc:
        print(f"{name}: refusing to start: {exc}", file=sys.stderr)
        return 2
    from shared import chain
    chain.configure(config.history_keys, config.history_key_id)
    log.configure(json=config.log_json)
    logger = log.get("run").bind(service=name)
    runner = ServiceRunner(config.nameko)
    runner.add_service(service_class(name))

    def shutdown(signum, frame):
        # Stop in a greenthread: the signal handler must not block the hub. A graceful
        # stop waits for running workers; one that hangs past the limit is killed.
        eventlet.spawn_n(runner.stop)
        eventlet.spawn_after(STOP_TIMEOUT, kill)
        # And if even that cannot run (the hub itself stuck), the OS ends the process:
        # SIGALRM's default action terminates it.
        signal.alarm(2 * STOP_TIMEOUT)

    def kill():
        logger.error("service.stop_timed_out", seconds=STOP_TIMEOUT)
        runner.kill()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    # What start-up built lives as long as the process: frozen, out of the collector's
    # way, so a full collection walks only what the events since have left; and a young
    # collection every 20,000 allocations, not 700, so fewer of a batch's objects still
    # in use are promoted to be walked again. Issue 14: the collector was a tenth of a
    # consumer's CPU a filing in the hop (0.38 s of decisions' 3.3 s for 3,000 filings).
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)
    logger.info("service.started")
    eventlet.spawn(runner.wait).wait()
    logger.info("service.stopped")
    # Skip interpreter finalisation: eventsourcing's connection pools close again from
    # __del__ there, inside eventlet's dying hub, and print spurious tracebacks.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
