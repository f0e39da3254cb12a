"""Creating the tables: idempotent, for `make dev`, tests and first deployment.

Production tables are declared in infra/; this mirrors them for the emulator.
"""

from __future__ import annotations

import boto3

from chalicelib.config import aws_region, get_settings
from chalicelib.models import AppTable, AuditEvent


def ensure_tables() -> None:
    settings = get_settings()
    AppTable.create_table(wait=True)
    AuditEvent.create_table(wait=True)
    client = boto3.client("dynamodb", region_name=aws_region())
    if settings.idempotency_table not in client.list_tables()["TableNames"]:
        client.create_table(
            TableName=settings.idempotency_table,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.get_waiter("table_exists").wait(TableName=settings.idempotency_table)
    from chalicelib.messaging import ensure_queue

    ensure_queue()
    for table, attribute in ((settings.app_table, "ttl"), (settings.idempotency_table, "expiration")):
        current = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            client.update_time_to_live(
                TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
            )
