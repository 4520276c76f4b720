"""pinggu's shared kernel: configuration, logging, clock, event store wiring, the bus."""
import warnings

# nameko imports eventlet, which announces its own deprecation on import; operators of
# the CLI and readers of the service logs need not see it on every command.
warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
