"""`make verify-ledger ORG=<org id> [FROM=YYYY-MM-DD] [TO=YYYY-MM-DD]`: check an organisation's records.

Recomputes the org's audit and ledger chains for the days (UTC for the chains,
the sites' local days for revenue), holds them to the signed daily digests,
reconciles the report, the ledger and the audit trail, and names the first
record that does not hold. Exit status 0: everything holds; 1: a problem.

Against `make dev`'s stack by default (its DynamoDB Local on KUOTA_DYNAMODB_PORT,
its keys in KUOTA_LOCAL_DIR, .kuota/ by default); against a deployed stage when
its environment is set (KUOTA_STAGE, KUOTA_LEDGER_KEY_SECRET_ID and the other
KUOTA_* variables of the stage, and AWS credentials).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--org", required=True, help="the organisation's id")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, help="first day (default: 30 days ago)")
    parser.add_argument("--to", dest="end", type=date.fromisoformat, help="last day (default: today, UTC)")
    args = parser.parse_args(argv)
    if not os.environ.get("KUOTA_LEDGER_KEY_SECRET_ID"):  # make dev's stack
        from infra import dev

        dev.configure_environment(console_port=8080, data=dev.local_data())
        port = os.environ.get("KUOTA_DYNAMODB_PORT", "8001")
        os.environ.setdefault("AWS_ENDPOINT_URL_DYNAMODB", f"http://{dev.HOST}:{port}")
    from chalicelib.services.ledger import LedgerService

    end = args.end or datetime.now(UTC).date()
    start = args.start or end - timedelta(days=30)
    result = LedgerService().verify(args.org, start, end)
    print(f"Org {args.org}, {start}..{end}: {result.chains.chains} chains, {result.chains.records} records, "
          f"days sealed: {', '.join(result.chains.days_sealed) or 'none'}")  # fmt: skip
    print(f"Revenue: report {result.totals.report}, ledger {result.totals.ledger}, not yet booked "
          f"{result.totals.pending}, audit trail {result.totals.audit}")  # fmt: skip
    if result.ok:
        print("OK: every record holds.")
        return 0
    first = result.problems[0]
    print(f"FAILED: {len(result.problems)} problem(s). First: {first.kind}: {first.message}", file=sys.stderr)
    for problem in result.problems:
        print(json.dumps(asdict(problem)), file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
