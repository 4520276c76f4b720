"""Backup and restore of the cluster's database (services.backup does the work)."""
from services.cli.messages import bad_input
from services.cli.render import emit


def database_answers(config):
    """Connect once first: pg_dump's own failure is a page of text, psycopg2's is the
    one-line exit 3 of a database that cannot be reached (main.report)."""
    import psycopg2
    psycopg2.connect(config.admin_dsn("postgres"), connect_timeout=10).close()


def cmd_backup(args, cluster):
    from services import backup
    database_answers(cluster.config)
    emit(args, backup.backup(cluster.config, args.out),
         lambda r: print(f"{r['file']}: backup of {r['database']}, {r['bytes']} bytes"))


def cmd_restore(args, cluster):
    from services import backup
    if not args.yes:
        raise bad_input("restore_yes")
    database_answers(cluster.config)
    emit(args, backup.restore(cluster.config, args.file),
         lambda r: print(f"{r['file']}: restored into {r['database']}; outboxes rewound: "
                         f"{', '.join(r['outboxes_rewound'])}"))


def register(commands):
    commands.command("backup", cmd_backup, "pg_dump the cluster's database (services may "
                     "run)", needs_operator=False).add_argument("--out", required=True,
                                                                metavar="FILE")
    p = commands.command("restore", cmd_restore, "restore a backup into a new database "
                         "(services stopped); every event is published again, consumers "
                         "drop repeats", needs_operator=False)
    p.add_argument("file")
    p.add_argument("--yes", action="store_true")
