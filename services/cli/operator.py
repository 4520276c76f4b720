"""The operators' directory (province): authorise a person with a new key pair, rotate
their key, revoke them, list who authorised whom (docs/identity.md)."""
import os

from shared import operators, tokens
from services.cli.client import wait_directory
from services.cli.messages import bad_input
from services.cli.render import emit
from services.cli.roster import jurisdiction_option


def _new_credential_file(args, config, operator_id):
    return args.out or operators.credential_path(config.credentials_dir, operator_id)


def cmd_operator_add(args, cluster):
    operators.check_entry(args.role, args.jurisdiction)
    path = _new_credential_file(args, cluster.config, args.id)
    key = tokens.new_private_key()
    # Written first, once: if the file exists nothing is sent; if the call fails the
    # unused key is removed again.
    try:
        public = operators.write_credential(path, args.id, args.role, args.jurisdiction, key)
    except FileExistsError:
        raise bad_input("credential_exists", path=path)
    try:
        entry = cluster.call("registry", "operator_add", args.id, args.role,
                             args.jurisdiction, args.name, public)
    except BaseException:
        os.unlink(path)
        raise
    wait_directory(cluster)
    emit(args, {**entry, "credential": path}, lambda e: print(
        f"{e['id']} ({e['role']}, {e['jurisdiction']}) authorised with key {e['key']}; "
        f"private key in {e['credential']} (mode 0600): hand it to that person only"))


def cmd_operator_rotate(args, cluster):
    path = _new_credential_file(args, cluster.config, args.id)
    pending = f"{path}.new"
    listed = {e["id"]: e for e in cluster.call("registry", "operator_list")}
    if args.id not in listed:
        raise bad_input("no_such_operator", id=args.id)
    e = listed[args.id]
    key = tokens.new_private_key()
    try:
        public = operators.write_credential(pending, args.id, e["role"], e["jurisdiction"],
                                            key)
    except FileExistsError:
        raise bad_input("rotation_left", path=pending)
    try:
        entry = cluster.call("registry", "operator_rotate", args.id, public)
    except BaseException:
        os.unlink(pending)
        raise
    os.replace(pending, path)
    wait_directory(cluster)
    emit(args, {**entry, "credential": path}, lambda e: print(
        f"{e['id']}: new key {e['key']} in {e['credential']} (mode 0600); the old key "
        "no longer works"))


def cmd_operator_revoke(args, cluster):
    entry = cluster.call("registry", "operator_revoke", args.id, args.reason)
    wait_directory(cluster)
    emit(args, entry, lambda e: print(
        f"{e['id']} revoked by {e['revoked']['by']} at {e['revoked']['at']}; every service "
        "refuses their credential from now on"))


def cmd_operator_password(args, cluster):
    """The desk's password (docs/desk.md): hashed here with argon2, only the hash is sent."""
    import getpass
    import sys
    from argon2 import PasswordHasher
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin \
        else getpass.getpass(f"new desk password for {args.id}: ")
    if len(password) < 10:
        raise bad_input("password_short")
    entry = cluster.call("registry", "operator_password", args.id,
                         PasswordHasher().hash(password))
    emit(args, entry, lambda e: print(f"{e['id']}: desk password set; sign-in unlocked"))


def cmd_operator_list(args, cluster):
    def human(rs):
        for r in rs:
            state = f"revoked {r['revoked']['at'][:10]} by {r['revoked']['by']}" \
                if r["revoked"] else f"key {r['key']}"
            print(f"{r['id']:<14}{r['role']:<10}{r['jurisdiction'] or '-':<8}"
                  f"authorised {r['authorised']['at'][:10]} by {r['authorised']['by']:<12}"
                  f"{state}  {r['name']}")
    emit(args, cluster.call("registry", "operator_list", args.as_of), human)


def register(commands):
    directory = commands.group("operator", "the operators' directory (province)")
    p = directory.command("add", cmd_operator_add, "authorise an operator with a new key pair")
    p.add_argument("id")
    p.add_argument("--role", required=True, choices=operators.PERSON_ROLES)
    jurisdiction_option(p, "140000 for province and center, a city's code")
    p.add_argument("--name", default="")
    p.add_argument("--out", metavar="FILE", help="the new private key's file (default: "
                   "$PINGGU_CREDENTIALS/ID.json); written once, mode 0600")
    p = directory.command("rotate", cmd_operator_rotate, "give an operator a new key pair")
    p.add_argument("id")
    p.add_argument("--out", metavar="FILE", help="the new private key's file (default: "
                   "$PINGGU_CREDENTIALS/ID.json), mode 0600")
    p = directory.command("revoke", cmd_operator_revoke,
                          "revoke an operator, from the next call")
    p.add_argument("id")
    p.add_argument("--reason", required=True)
    p = directory.command("password", cmd_operator_password, "set an operator's desk password")
    p.add_argument("id")
    p.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    directory.command("list", cmd_operator_list, "every operator, with who authorised them"
                      ).add_argument("--as-of", metavar="YYYY-MM-DD",
                                     help="as the directory stood at the end of this date")
