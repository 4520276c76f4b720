"""What a signed call costs in-process (shared.tokens): digest of the arguments, minting
on the CLI's side, verification on the service's (key already looked up). No cluster.

    .venv/bin/python bench/tokens.py [--n 2000]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from shared import tokens  # noqa: E402
from shared.operators import Operator  # noqa: E402


def timed(n, fn):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
    private = tokens.new_private_key()
    public = tokens.public_bytes(private)
    key = tokens.Key(tokens.key_id(public), tokens.public_key(public),
                     operator=Operator("province", "province", "140000"))
    small = ["140100", None, True]
    upload = [{"filename": "scores.xlsx", "content": "A" * 1_000_000}]
    digest = tokens.digest(small)

    def mint():
        return tokens.mint(private, kid=key.kid, subject="province", role="province",
                           jurisdiction="140000", audience="registry", method="institutions",
                           args_digest=digest, jti="bench")
    token = mint()
    rows = [
        ("digest, small arguments", timed(n, lambda: tokens.digest(small))),
        ("digest, 1 MB upload", timed(max(10, n // 20), lambda: tokens.digest(upload))),
        ("mint", timed(n, mint)),
        ("verify", timed(n, lambda: tokens.verify(
            token, audience="registry", method="institutions", args_digest=digest,
            key_for=lambda kid: key))),
    ]
    for name, ms in rows:
        print(f"{name:<26}{ms:8.3f} ms (median of {n if 'MB' not in name else max(10, n // 20)})")


if __name__ == "__main__":
    main()
