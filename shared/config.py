"""Configuration from environment variables (and an env file of secrets), with defaults for
the local machine in development mode only.

Each process runs as one *role*: a service (registry, evaluation, decisions, notices), the
`cli`, or a connected HR system (`hr-legal`). The role chooses the RabbitMQ user and the
PostgreSQL role the process connects as (docs/security.md); their passwords, the history
key and the notary key come from the environment or the secrets file, never from the code
in production (`PINGGU_MODE=production`): there a development secret, or a missing one,
stops the process (check_production).
"""
import hashlib
import os
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

SERVICES = ("registry", "evaluation", "decisions", "notices")
# HR systems connected to the bus (PINGGU_HR_SYSTEMS, comma-separated, each `hr-…`): each
# publishes `external.#` only, as its own user.
HR_SYSTEMS = ("hr-legal",)
DEVELOPMENT, PRODUCTION = "development", "production"
# Development keys: derived from public strings, so anyone can forge with them. Production
# refuses them (check_production).
DEV_HISTORY_KEY = hashlib.sha256(b"pinggu-development-history-key").digest()
DEV_NOTARY_SEED = hashlib.sha256(b"pinggu-development-notary-key").digest()
DEV_DESK_SEED = hashlib.sha256(b"pinggu-development-desk-key").digest()
DEV_KEY_ID = "dev"


def dev_password(account):
    return f"pinggu-dev-{account}"


class ConfigError(Exception):
    """The configuration cannot be used (production with a development secret, a missing
    or unreadable key file): the process must not start."""


@dataclass(frozen=True)
class Config:
    amqp_uri_base: str
    pg_host: str
    pg_port: str
    pg_user_override: str | None
    pg_password_override: str | None
    pg_dbname: str
    exchange: str
    operators_file: str
    allow_simulated_clock: bool
    http_port: int
    log_json: bool | None
    mode: str = DEVELOPMENT
    role: str = "cli"
    account_prefix: str = "pinggu_"
    secrets: dict = field(default_factory=dict, repr=False)
    history_keys: dict = field(default_factory=dict, repr=False)  # key id -> key
    history_key_id: str = DEV_KEY_ID
    notary_seed: bytes | None = field(default=None, repr=False)
    notary_public_keys: tuple = ()  # raw Ed25519 public keys trusted for checkpoints
    pg_admin_user: str = "postgres"
    hr_systems: tuple = HR_SYSTEMS
    # Operators' credentials (docs/identity.md).
    credentials_dir: str = "var/credentials"
    provision_dev_operators: bool = False
    jwks: str | None = None
    jwks_issuer: str | None = None
    # The desk's issuer key (docs/desk.md): its private seed (the desk only) and the
    # public keys every service trusts for tokens the desk mints after a sign-in.
    desk_seed: bytes | None = field(default=None, repr=False)
    desk_public_keys: tuple = ()
    # The most inbox messages handled in one transaction (shared/batch.py, issue 14).
    inbox_batch: int = 500

    @property
    def production(self):
        return self.mode == PRODUCTION

    # -- accounts ----------------------------------------------------------------------
    def account(self, role):
        """The broker user / database role of a role: the prefix names the deployment (or
        the test run), so several share one server without sharing accounts."""
        return f"{self.account_prefix}{role}"

    def owner_of(self, account):
        """The role an account belongs to, or None for an account not of this deployment."""
        if account and account.startswith(self.account_prefix):
            role = account[len(self.account_prefix):]
            if role in SERVICES or role in self.hr_systems or role == "cli":
                return role
        return None

    def secret(self, name, development_default):
        """A secret from the environment / secrets file; the development default in
        development mode only."""
        value = self.secrets.get(name)
        if value:
            return value
        if self.production:
            raise ConfigError(f"{name} is not set (production mode has no defaults)")
        return development_default

    def broker_password(self, role):
        return self.secret(f"PINGGU_BROKER_PASSWORD_{_env_name(role)}",
                           dev_password(role))

    def amqp_uri_for(self, role):
        """The broker URI with the role's own credentials (amqps in production)."""
        parts = urlsplit(self.amqp_uri_base)
        if parts.username:  # an explicit user in the URI wins (a one-off admin tool)
            return self.amqp_uri_base
        netloc = (f"{quote(self.account(role), safe='')}:"
                  f"{quote(self.broker_password(role), safe='')}@{parts.netloc}")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    @property
    def amqp_uri(self):
        return self.amqp_uri_for(self.role)

    def pg_role_of(self, role):
        """Services write as themselves; everyone else reads as the auditor."""
        return role if role in SERVICES else "auditor"

    def pg_credentials(self, role=None):
        if self.pg_user_override:
            return self.pg_user_override, self.pg_password_override or ""
        pg_role = self.pg_role_of(role or self.role)
        return self.account(pg_role), self.secret(
            f"PINGGU_PG_PASSWORD_{_env_name(pg_role)}", dev_password(pg_role))

    @property
    def pg_user(self):
        return self.pg_credentials()[0]

    @property
    def pg_password(self):
        return self.pg_credentials()[1]

    @property
    def nameko(self):
        """The nameko container config: one place so every process talks to the same broker."""
        from shared import bus  # registers the cloudevents serializers
        return {"AMQP_URI": self.amqp_uri, "max_workers": 10, "serializer": "json",
                "ACCEPT": bus.ACCEPT,
                "WEB_SERVER_ADDRESS": f"127.0.0.1:{self.http_port}"}

    def pg_env(self, schema, create_table=True):
        """eventsourcing's PostgreSQL settings; every service keeps its events in its own
        schema, and connects as the schema's own role."""
        user, password = self.pg_credentials(schema)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.pg_dbname,
            "POSTGRES_HOST": self.pg_host,
            "POSTGRES_PORT": self.pg_port,
            "POSTGRES_USER": user,
            "POSTGRES_PASSWORD": password,
            "POSTGRES_SCHEMA": schema,
            # The event tables are the provisioning's (owned by the history role), so a
            # service must not try to create them; a reader never does.
            "CREATE_TABLE": "yes" if create_table else "no",
            # Small pools: PostgreSQL's default of 100 connections is shared by every
            # service of every cluster on the machine (tests run several at once). Five
            # kept open, none beyond: an overflow connection was opened and closed per
            # checkout under load, a new backend each time (issue 14).
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_POOL_MAX_OVERFLOW": "0",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_PRE_PING": "yes",
        }

    def dsn(self, dbname=None, role=None, user=None, password=None):
        from psycopg2.extensions import make_dsn
        if user is None:
            user, password = self.pg_credentials(role)
        params = {"host": self.pg_host, "port": self.pg_port, "user": user,
                  "dbname": dbname or self.pg_dbname}
        if password:  # an empty "password=" would swallow the next parameter
            params["password"] = password
        return make_dsn(**params)

    def admin_dsn(self, dbname=None):
        """The provisioning's connection (the database's administrator)."""
        return self.dsn(dbname, user=self.pg_admin_user,
                        password=self.secrets.get("PINGGU_PG_ADMIN_PASSWORD", ""))

    # -- production ----------------------------------------------------------------------
    def check_production(self):
        """In production, refuse what only development may use: a development key,
        secret or password, the broker's `guest`, the simulated clock."""
        if not self.production:
            return
        problems = []
        if self.history_key_id == DEV_KEY_ID or DEV_HISTORY_KEY in self.history_keys.values():
            problems.append("the history key is the development key "
                            "(set PINGGU_HISTORY_KEY_FILE)")
        if self.notary_seed is None and self.role == "notices":
            problems.append("no notary key (set PINGGU_NOTARY_KEY_FILE)")
        if self.notary_seed == DEV_NOTARY_SEED:
            problems.append("the notary key is the development key")
        if self.desk_seed == DEV_DESK_SEED or _dev_desk_public() in self.desk_public_keys:
            problems.append("the desk's issuer key is the development key "
                            "(set PINGGU_DESK_KEY_FILE / PINGGU_DESK_PUBLIC_KEY_FILE)")
        if self.allow_simulated_clock:
            problems.append("the simulated clock is on (PINGGU_SIMULATED_CLOCK)")
        user = urlsplit(self.amqp_uri_base).username
        if user == "guest":
            problems.append("the broker URI uses guest")
        for name, value in self.secrets.items():
            if value.startswith("pinggu-dev-"):
                problems.append(f"{name} is a development password")
        for role in ([self.role] if self.role in SERVICES else []):
            try:
                self.broker_password(role)
                self.pg_credentials(role)
            except ConfigError as exc:
                problems.append(str(exc))
        if problems:
            raise ConfigError("production mode: " + "; ".join(problems))


def _env_name(role):
    return role.upper().replace("-", "_")


def _flag(environ, name, default):
    value = environ.get(name)
    if value is None or value == "":
        return default
    return value.lower() in ("1", "yes", "true", "on")


def read_env_file(path):
    """KEY=VALUE lines (# comments); the file holds secrets, so it should be mode 0600."""
    values = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise ConfigError(f"{path}: line {number}: not KEY=VALUE")
            values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def _secrets(environ):
    values = {}
    path = environ.get("PINGGU_SECRETS_FILE")
    if path:
        values.update(read_env_file(path))
    values.update({k: v for k, v in environ.items()
                   if k.startswith(("PINGGU_BROKER_PASSWORD_", "PINGGU_PG_PASSWORD_"))
                   or k == "PINGGU_PG_ADMIN_PASSWORD"})
    return values


def read_key_lines(path):
    """`<key id> <hex>` lines, the current key first (a rotated-out key stays listed after
    it, so history written under it still verifies)."""
    keys = []
    try:
        with open(path, encoding="ascii") as f:
            for number, line in enumerate(f, start=1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                parts = line.split()
                try:
                    keys.append((parts[0], bytes.fromhex(parts[-1])) if len(parts) == 2
                                else (None, bytes.fromhex(parts[0])))
                except (ValueError, IndexError):
                    raise ConfigError(f"{path}: line {number}: not '<key id> <hex>'")
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}")
    if not keys:
        raise ConfigError(f"{path}: no key")
    return keys


def _history_keys(environ):
    path = environ.get("PINGGU_HISTORY_KEY_FILE")
    if not path:
        return {DEV_KEY_ID: DEV_HISTORY_KEY}, DEV_KEY_ID
    keys = read_key_lines(path)
    if any(kid is None for kid, _ in keys):
        raise ConfigError(f"{path}: every history key needs an id ('<key id> <hex>')")
    return dict(keys), keys[0][0]


def _notary(environ, production):
    seed = None
    path = environ.get("PINGGU_NOTARY_KEY_FILE")
    if path:
        seed = read_key_lines(path)[0][1]
    elif not production:
        seed = DEV_NOTARY_SEED
    public = []
    if environ.get("PINGGU_NOTARY_PUBLIC_KEY_FILE"):
        public = [key for _, key in read_key_lines(environ["PINGGU_NOTARY_PUBLIC_KEY_FILE"])]
    if seed is not None:
        from shared import checkpoint
        own = checkpoint.public_key_of(seed)
        if own not in public:
            public.insert(0, own)
    return seed, tuple(public)


def _dev_desk_public():
    from shared import checkpoint
    return checkpoint.public_key_of(DEV_DESK_SEED)


def _desk(environ, production):
    """The desk's issuer key, as the notary's: a seed file for the desk, public key lines
    for the services (in development the desk's own, derived from a public string)."""
    from shared import checkpoint
    seed = None
    if environ.get("PINGGU_DESK_KEY_FILE"):
        seed = read_key_lines(environ["PINGGU_DESK_KEY_FILE"])[0][1]
    public = []
    if environ.get("PINGGU_DESK_PUBLIC_KEY_FILE"):
        public = [key for _, key in read_key_lines(environ["PINGGU_DESK_PUBLIC_KEY_FILE"])]
    elif not production:
        seed = seed or DEV_DESK_SEED
    if seed is not None and checkpoint.public_key_of(seed) not in public:
        public.insert(0, checkpoint.public_key_of(seed))
    return seed, tuple(public)


def load(environ=None):
    environ = os.environ if environ is None else environ
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    mode = environ.get("PINGGU_MODE") or DEVELOPMENT
    if mode not in (DEVELOPMENT, PRODUCTION):
        raise ConfigError(f"PINGGU_MODE must be {DEVELOPMENT} or {PRODUCTION}, not {mode!r}")
    hr_systems = tuple(s.strip() for s in environ.get("PINGGU_HR_SYSTEMS", "").split(",")
                       if s.strip()) or HR_SYSTEMS
    if not all(s.startswith("hr-") for s in hr_systems):
        raise ConfigError(f"PINGGU_HR_SYSTEMS: every name must start with 'hr-': {hr_systems}")
    history_keys, history_key_id = _history_keys(environ)
    notary_seed, notary_public = _notary(environ, mode == PRODUCTION)
    desk_seed, desk_public = _desk(environ, mode == PRODUCTION)
    return Config(
        amqp_uri_base=environ.get("PINGGU_AMQP_URI", "amqp://127.0.0.1:5672/"),
        pg_host=environ.get("PINGGU_PG_HOST", "127.0.0.1"),
        pg_port=environ.get("PINGGU_PG_PORT", "5432"),
        # An explicit user connects every role as that user (a one-off tool, a benchmark).
        pg_user_override=environ.get("PINGGU_PG_USER") or None,
        pg_password_override=environ.get("PINGGU_PG_PASSWORD") or None,
        pg_dbname=environ.get("PINGGU_PG_DBNAME", "pinggu"),
        exchange=environ.get("PINGGU_EXCHANGE", "pinggu.events"),
        operators_file=environ.get("PINGGU_OPERATORS_FILE",
                                   os.path.join(here, "etc", "operators.json")),
        # The wall clock unless a cluster is started for simulation (the demo, tests).
        allow_simulated_clock=_flag(environ, "PINGGU_SIMULATED_CLOCK",
                                    _flag(environ, "PINGGU_ALLOW_SIMULATED_CLOCK", False)),
        http_port=int(environ.get("PINGGU_HTTP_PORT", "8023")),
        inbox_batch=_positive(environ, "PINGGU_INBOX_BATCH", 500),
        log_json=None if environ.get("PINGGU_LOG_JSON") in (None, "")
        else _flag(environ, "PINGGU_LOG_JSON", True),
        mode=mode,
        role=environ.get("PINGGU_ROLE") or "cli",
        account_prefix=environ.get("PINGGU_ACCOUNT_PREFIX", "pinggu_"),
        secrets=_secrets(environ),
        history_keys=history_keys,
        history_key_id=history_key_id,
        notary_seed=notary_seed,
        notary_public_keys=notary_public,
        pg_admin_user=environ.get("PINGGU_PG_ADMIN_USER", "postgres"),
        hr_systems=hr_systems,
        # The person's own credentials; the CLI signs with the one --operator chooses.
        credentials_dir=environ.get("PINGGU_CREDENTIALS") or os.path.join(
            here, "var", "credentials"),
        # A development, demo or test cluster gives the person who starts it a credential
        # for each operator of etc/operators.json; production is off unless asked for (the
        # one-off bootstrap of the first province administrator, docs/identity.md).
        provision_dev_operators=_flag(environ, "PINGGU_PROVISION_DEV_OPERATORS",
                                      mode != PRODUCTION),
        jwks=environ.get("PINGGU_JWKS") or None,
        jwks_issuer=environ.get("PINGGU_JWKS_ISSUER") or None,
        desk_seed=desk_seed,
        desk_public_keys=desk_public,
    )


def _positive(environ, name, default):
    text = environ.get(name) or str(default)
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, not {text!r}")
    return int(text)
