"""Write the published contract from the code: a JSON Schema (2020-12) per event type under
docs/schemas/<type>.json, and docs/asyncapi.yaml (AsyncAPI 3.0) for the exchange, its
routing keys, the queues and the stream.

    python -m shared.contracts.generate            # (re)write them (make schemas)
    python -m shared.contracts.generate --check    # exit 1 if the committed files differ
    python -m shared.contracts.generate --publish  # record the schemas as published

The published baseline (docs/schemas/published.lock) holds a copy of each schema as it was
published; tests/unit/test_contracts.py checks every current schema stays compatible
with it (no field removed, no field newly required, no type changed): a breaking change
is a new type `….v<N+1>`. `--publish` adds the types not yet in it; it never replaces one.
"""
import argparse
import json
import pathlib
import sys

from shared import contracts
from shared.contracts import asyncapi

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"
ASYNCAPI = ROOT / "docs" / "asyncapi.yaml"
LOCK = SCHEMAS / "published.lock"


def render_schema(contract):
    return json.dumps(contracts.json_schema(contract), ensure_ascii=False, indent=2) + "\n"


def expected_files():
    """{path: text} of everything generated."""
    files = {SCHEMAS / f"{name}.json": render_schema(contract)
             for name, contract in contracts.all_events().items()}
    files[ASYNCAPI] = asyncapi.render()
    return files


def differences():
    """The generated files that are missing, stale or left over, as readable lines."""
    expected, out = expected_files(), []
    for path, text in expected.items():
        if not path.exists():
            out.append(f"missing: {path.relative_to(ROOT)}")
        elif path.read_text(encoding="utf-8") != text:
            out.append(f"stale: {path.relative_to(ROOT)}")
    for path in SCHEMAS.glob("*.json"):
        if path not in expected:
            out.append(f"left over: {path.relative_to(ROOT)}")
    return out


def write():
    SCHEMAS.mkdir(parents=True, exist_ok=True)
    expected = expected_files()
    for path in SCHEMAS.glob("*.json"):
        if path not in expected:
            path.unlink()
    for path, text in expected.items():
        path.write_text(text, encoding="utf-8")
    return len(expected)


def read_lock():
    return json.loads(LOCK.read_text(encoding="utf-8")) if LOCK.exists() else {}


def publish():
    """Add the schemas of types not yet published to the baseline; returns their names."""
    lock = read_lock()
    added = [name for name in contracts.all_events() if name not in lock]
    for name in added:
        lock[name] = contracts.json_schema(contracts.contract_for(name))
    LOCK.write_text(json.dumps(dict(sorted(lock.items())), ensure_ascii=False, indent=1)
                    + "\n", encoding="utf-8")
    return added


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m shared.contracts.generate",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare the committed files with the code")
    parser.add_argument("--publish", action="store_true",
                        help="also record new types' schemas in docs/schemas/published.lock")
    args = parser.parse_args(argv)
    if args.check:
        problems = differences()
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run: make schemas", file=sys.stderr)
        return 1 if problems else 0
    print(f"wrote {write()} files")
    if args.publish:
        added = publish()
        print(f"published {len(added)} new types" + (f": {', '.join(added)}" if added else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
