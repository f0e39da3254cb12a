"""A stage's AWS resources: the template merged into Chalice's (`chalice package --merge-template`).

Chalice declares the Lambda functions, their roles and log groups, the REST API
and the schedules from `app.py`; this module declares everything around them
(tables, queues, secrets, the console's hosting, alarms) and, through the merge,
pins what Chalice would otherwise take from the local interpreter (the runtime)
or leave open (function names, table names in the environment). The IAM policy
of each function is written here too and handed to Chalice as that function's
`iam_policy_file` (see infra/package.py), so each Lambda gets its own role.

Everything is plain data: `merge_template(spec)` and `function_policy(spec, name)`
return JSON-ready dicts; nothing here talks to AWS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Json = dict[str, Any]

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_RUNTIME = "python3.13"
LAMBDA_ARCHITECTURE = "arm64"
API_GATEWAY_STAGE = "api"
# CloudFront's managed cache policies (the same ids in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
# Read by libraries, not by chalicelib/config.py (Powertools' logger).
LIBRARY_VARIABLES = frozenset({"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"})


@dataclass(frozen=True)
class StageSpec:
    """What differs between stages. Everything else is the same template."""

    name: str
    console_origin: str  # https://<domain>: CloudFront's alias, the API's CORS origin
    retain: bool  # tables and secrets outlive the stack; deletion protection on
    log_retention_days: int
    throttle_rate: float  # API Gateway stage default, requests per second
    throttle_burst: int
    redeem_failures_per_5_minutes: int  # alarm threshold of the redeem-failure metric

    @property
    def prefix(self) -> str:
        return f"kuota-{self.name}"

    @property
    def console_domain(self) -> str:
        return self.console_origin.removeprefix("https://").rstrip("/")

    def secret_name(self, what: str) -> str:
        return f"kuota/{self.name}/{what}"


@dataclass(frozen=True)
class Access:
    """What one Lambda may do; every action is listed, every resource named."""

    app_table: tuple[str, ...] = ()
    audit_table: tuple[str, ...] = ()
    idempotency_table: tuple[str, ...] = ()
    batch_queue: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()  # logical ids of SECRETS
    # Venues' payment provider keys, secrets named kuota/<stage>/payments/<org>/<provider> (made at run time).
    merchant_keys: tuple[str, ...] = ()


_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem")
# Everything that could change or remove an audit event once written, denied to every role
# and, through the table's resource policy, to every principal.
AUDIT_FORBIDDEN = (
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
)
AUDIT_ALLOWED = ("dynamodb:PutItem", "dynamodb:Query")
_MERCHANT_KEYS_WRITE = (
    "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:CreateSecret",
    "secretsmanager:DeleteSecret",
)  # fmt: skip

# Secrets' logical ids -> (name suffix, what they hold).
SECRETS: dict[str, tuple[str, str]] = {
    "JwtKeysSecret": ("jwt-keys", 'JWT signing key set {"active": kid, "keys": {kid: PEM}}'),
    "CodeKeysSecret": ("code-keys", 'voucher code keys {"hmac": base64, "fpe": base64}; never rotate'),
    "LedgerKeySecret": ("ledger-key", "Ed25519 private key (PEM) signing each day's audit and ledger chains"),
}

# Chalice's function names (app.py's handlers; the API is `api_handler`) -> their access.
FUNCTIONS: dict[str, Access] = {
    "api_handler": Access(
        app_table=(*_READ, *_WRITE, "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"),
        audit_table=AUDIT_ALLOWED,
        idempotency_table=("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        batch_queue=("sqs:SendMessage", "sqs:GetQueueUrl"),
        secrets=("JwtKeysSecret", "CodeKeysSecret", "LedgerKeySecret"),
        merchant_keys=_MERCHANT_KEYS_WRITE,
    ),
    "expire_vouchers": Access(
        app_table=(*_READ, *_WRITE), audit_table=("dynamodb:PutItem",), secrets=("CodeKeysSecret",)
    ),
    # Chained writes move a chain head (UpdateItem) and may add a ledger entry (PutItem) to the app table.
    "drain_audit_outbox": Access(app_table=(*_READ, *_WRITE), audit_table=AUDIT_ALLOWED),
    "seal_ledger": Access(app_table=_READ, audit_table=AUDIT_ALLOWED, secrets=("LedgerKeySecret",)),
    # Stage moves and trigger claims; sales figures for the quality and resellers checks are reads.
    "advance_compliance": Access(app_table=(*_READ, *_WRITE), audit_table=AUDIT_ALLOWED),
    # Fulfils paid orders (a sale: chained writes) and expires unpaid ones; reads venues' provider keys.
    "reconcile_payments": Access(
        app_table=(*_READ, *_WRITE), audit_table=AUDIT_ALLOWED, secrets=("CodeKeysSecret",),
        merchant_keys=("secretsmanager:GetSecretValue",),
    ),
    "issue_batches": Access(
        app_table=(*_READ, *_WRITE, "dynamodb:BatchWriteItem"),
        audit_table=("dynamodb:PutItem",),
        batch_queue=(
            "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility",
            "sqs:GetQueueUrl",
        ),
        secrets=("CodeKeysSecret",),
    ),
}  # fmt: skip


def _chalice_stage(stage: str) -> Json:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return dict(config["stages"].get(stage, {}))


def stage_spec(stage: str, console_origin: str | None = None) -> StageSpec:
    """The stage's settings; the console origin defaults to `.chalice/config.json`'s for the stage."""
    configured = _chalice_stage(stage).get("environment_variables", {}).get("KUOTA_CONSOLE_ORIGIN")
    if stage == "prod":
        return StageSpec(
            name="prod", console_origin=console_origin or configured or "https://console.kuota.id", retain=True,
            log_retention_days=365, throttle_rate=5000, throttle_burst=5000, redeem_failures_per_5_minutes=3000,
        )  # fmt: skip
    if stage == "dev":
        # The chalice `dev` stage's origin is the laptop's; on AWS the console has its own domain.
        return StageSpec(
            name="dev", console_origin=console_origin or "https://console.dev.kuota.id", retain=False,
            log_retention_days=14, throttle_rate=50, throttle_burst=100, redeem_failures_per_5_minutes=200,
        )  # fmt: skip
    raise ValueError(f"unknown stage {stage!r}: dev or prod")


def cfn_name(function: str) -> str:
    """Chalice's logical id for a function (`expire_vouchers` -> `ExpireVouchers`; the API: `APIHandler`)."""
    if function == "api_handler":
        return "APIHandler"
    return "".join(part.capitalize() for part in function.split("_"))


def function_name(spec: StageSpec, function: str) -> str:
    return f"{spec.prefix}-{function.replace('_', '-')}"


def _sub(text: str) -> Json:
    return {"Fn::Sub": text}


def _arn(logical_id: str) -> Json:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def lambda_environment(spec: StageSpec) -> dict[str, str]:
    """The plain-string variables every function receives (Chalice's stage config on AWS).

    Key material comes from Secrets Manager by name; the `*_FILE` variables of the
    local `dev` stage have no place on Lambda (read-only disk, one key set per container).
    """
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    variables: dict[str, str] = dict(config.get("environment_variables", {}))
    variables.update(_chalice_stage(spec.name).get("environment_variables", {}))
    variables = {name: value for name, value in variables.items() if not name.endswith("_FILE")}
    variables.update(
        KUOTA_STAGE=spec.name,
        KUOTA_CONSOLE_ORIGIN=spec.console_origin,
        KUOTA_TRUST_FORWARDED_FOR="false",
        KUOTA_JWT_KEYS_SECRET_ID=spec.secret_name(SECRETS["JwtKeysSecret"][0]),
        KUOTA_CODE_KEYS_SECRET_ID=spec.secret_name(SECRETS["CodeKeysSecret"][0]),
        KUOTA_LEDGER_KEY_SECRET_ID=spec.secret_name(SECRETS["LedgerKeySecret"][0]),
    )
    return variables


def _resource_environment() -> Json:
    """Variables set from the template's own resources (so functions are created after them)."""
    return {
        "KUOTA_APP_TABLE": {"Ref": "AppTable"},
        "KUOTA_AUDIT_TABLE": {"Ref": "AuditTable"},
        "KUOTA_IDEMPOTENCY_TABLE": {"Ref": "IdempotencyTable"},
        "KUOTA_BATCH_QUEUE": {"Fn::GetAtt": ["BatchQueue", "QueueName"]},
    }


def function_policy(spec: StageSpec, function: str) -> Json:
    """The IAM policy of one function's role: named resources, listed actions, the audit table append-only."""
    access = FUNCTIONS[function]
    statements: list[Json] = []

    def allow(sid: str, actions: tuple[str, ...], resources: list[Any]) -> None:
        if actions:
            statements.append({"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": resources})

    allow("AppTable", access.app_table, [_arn("AppTable"), _sub("${AppTable.Arn}/index/*")])
    allow("AuditTableAppendAndQuery", access.audit_table, [_arn("AuditTable"), _sub("${AuditTable.Arn}/index/*")])
    statements.append(
        {"Sid": "AuditTableIsAppendOnly", "Effect": "Deny", "Action": list(AUDIT_FORBIDDEN),
         "Resource": [_arn("AuditTable"), _sub("${AuditTable.Arn}/index/*")]}
    )  # fmt: skip
    allow("IdempotencyTable", access.idempotency_table, [_arn("IdempotencyTable")])
    allow("BatchQueue", access.batch_queue, [_arn("BatchQueue")])
    allow("Secrets", ("secretsmanager:GetSecretValue",) if access.secrets else (), [{"Ref": s} for s in access.secrets])
    allow(
        "MerchantKeys", access.merchant_keys,
        [_sub(f"arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:"
              f"{spec.secret_name('payments')}/*")],
    )  # fmt: skip
    log_group = f"/aws/lambda/{function_name(spec, function)}"
    allow(
        "OwnLogGroup", ("logs:CreateLogStream", "logs:PutLogEvents"),
        [_sub(f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{log_group}:*")],
    )  # fmt: skip
    return {"Version": "2012-10-17", "Statement": statements}


def _table(spec: StageSpec, suffix: str, properties: Json) -> Json:
    policy = "Retain" if spec.retain else "Delete"
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": policy,
        "UpdateReplacePolicy": policy,
        "Properties": {
            "TableName": f"{spec.prefix}-{suffix}",
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "DeletionProtectionEnabled": spec.retain,
            "SSESpecification": {"SSEEnabled": True},
            **properties,
        },
    }


def _keys(*names: str) -> list[Json]:
    return [{"AttributeName": name, "KeyType": kind} for name, kind in zip(names, ("HASH", "RANGE"), strict=False)]


def tables(spec: StageSpec) -> Json:
    """The application table (as chalicelib/models/base.py declares it), the audit table, the idempotency store."""
    from chalicelib.models import AppTable

    attributes: dict[str, str] = {"PK": "S", "SK": "S"}
    indexes = []
    for index in sorted(AppTable._indexes.values(), key=lambda i: i.Meta.index_name):
        keys = index.Meta.attributes.values()
        hash_key = next(a for a in keys if a.is_hash_key)
        range_key = next(a for a in keys if a.is_range_key)
        for attribute in (hash_key, range_key):
            attributes[attribute.attr_name] = attribute.attr_type
        indexes.append(
            {"IndexName": index.Meta.index_name, "KeySchema": _keys(hash_key.attr_name, range_key.attr_name),
             "Projection": {"ProjectionType": "ALL"}}
        )  # fmt: skip
    definitions = [{"AttributeName": name, "AttributeType": kind} for name, kind in attributes.items()]
    audit_arn = f"arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/{spec.prefix}-audit"
    return {
        "AppTable": _table(spec, "app", {
            "AttributeDefinitions": definitions, "KeySchema": _keys("PK", "SK"), "GlobalSecondaryIndexes": indexes,
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
        }),
        # Audit events are kept: no TTL. The resource policy holds even against an admin's own role.
        "AuditTable": _table(spec, "audit", {
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"},
                                     {"AttributeName": "SK", "AttributeType": "S"}],
            "KeySchema": _keys("PK", "SK"),
            "ResourcePolicy": {"PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": "AuditEventsAreImmutable", "Effect": "Deny", "Principal": "*",
                 "Action": list(AUDIT_FORBIDDEN), "Resource": _sub(audit_arn)},
            ]}},
        }),
        "IdempotencyTable": _table(spec, "idempotency", {
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}], "KeySchema": _keys("id"),
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
        }),
    }  # fmt: skip


def queues(spec: StageSpec) -> Json:
    return {
        "BatchQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": f"{spec.prefix}-batches",
                # Above issue_batches' 900 s timeout, so a running batch is not handed out twice.
                "VisibilityTimeout": 960,
                "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {"deadLetterTargetArn": _arn("BatchDeadLetterQueue"), "maxReceiveCount": 5},
            },
        },
        "BatchDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": f"{spec.prefix}-batches-dlq",
                "MessageRetentionPeriod": 1209600,
                "SqsManagedSseEnabled": True,
            },
        },
    }


def secrets(spec: StageSpec) -> Json:
    """The key secrets, created holding a placeholder; `make keys` writes real key sets (docs/deploy.md)."""
    policy = "Retain" if spec.retain else "Delete"
    return {
        logical_id: {
            "Type": "AWS::SecretsManager::Secret",
            "DeletionPolicy": policy,
            "UpdateReplacePolicy": policy,
            "Properties": {
                "Name": spec.secret_name(suffix),
                "Description": f"Kuota {spec.name}: {what}. Created as a placeholder; filled by `make keys`.",
                "GenerateSecretString": {
                    "SecretStringTemplate": json.dumps({"uninitialised": True}),
                    "GenerateStringKey": "placeholder",
                    "PasswordLength": 32,
                },
            },
        }
        for logical_id, (suffix, what) in SECRETS.items()
    }


def api_origin() -> Json:
    return _sub("https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}")


def content_security_policy() -> Json:
    """The console's CSP, as `make dev` serves it (infra/dev.py), with the stage's API as connect-src."""
    return _sub(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


CONFIG_FUNCTION = """function handler(event) {
  return {
    statusCode: 200,
    statusDescription: 'OK',
    headers: {
      'content-type': {value: 'application/json'},
      'cache-control': {value: 'no-store'}
    },
    body: {encoding: 'text', data: '{"apiBase": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/%s"}'}
  };
}
"""


def console(spec: StageSpec) -> Json:
    """Private bucket, CloudFront with origin access control, security headers, and `/config.json`."""
    return {
        "ConsoleBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True, "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
                },
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "VersioningConfiguration": {"Status": "Enabled"},
                "LifecycleConfiguration": {"Rules": [{
                    "Id": "ExpireOldConsoleBuilds", "Status": "Enabled",
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                }]},
            },
        },
        "ConsoleBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "ConsoleBucket"},
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Sid": "CloudFrontReadsThroughOriginAccessControl", "Effect": "Allow",
                     "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                     "Resource": _sub("${ConsoleBucket.Arn}/*"),
                     "Condition": {"StringEquals": {"AWS:SourceArn": _sub(
                         "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${ConsoleDistribution}")}}},
                    {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": [_arn("ConsoleBucket"), _sub("${ConsoleBucket.Arn}/*")],
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                ]},
            },
        },
        "ConsoleOriginAccessControl": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {"OriginAccessControlConfig": {
                "Name": f"{spec.prefix}-console", "OriginAccessControlOriginType": "s3",
                "SigningBehavior": "always", "SigningProtocol": "sigv4",
            }},
        },
        "ConsoleHeadersPolicy": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {"ResponseHeadersPolicyConfig": {
                "Name": f"{spec.prefix}-console-security-headers",
                "SecurityHeadersConfig": {
                    "ContentSecurityPolicy": {"ContentSecurityPolicy": content_security_policy(), "Override": True},
                    "StrictTransportSecurity": {"AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True,
                                                "Override": True},
                    "FrameOptions": {"FrameOption": "DENY", "Override": True},
                    "ContentTypeOptions": {"Override": True},
                    "ReferrerPolicy": {"ReferrerPolicy": "no-referrer", "Override": True},
                },
            }},
        },
        "ConsoleConfigFunction": {
            "Type": "AWS::CloudFront::Function",
            "Properties": {
                "Name": f"{spec.prefix}-console-config",
                "AutoPublish": True,
                "FunctionConfig": {"Comment": "The console's /config.json: the API it talks to",
                                   "Runtime": "cloudfront-js-2.0"},
                "FunctionCode": _sub(CONFIG_FUNCTION % API_GATEWAY_STAGE),
            },
        },
        "ConsoleDistribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {"DistributionConfig": {
                "Enabled": True,
                "Comment": f"Kuota {spec.name} console",
                "Aliases": [spec.console_domain],
                "ViewerCertificate": {"AcmCertificateArn": {"Ref": "ConsoleCertificateArn"},
                                      "SslSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"},
                "DefaultRootObject": "index.html",
                "HttpVersion": "http2and3",
                "IPV6Enabled": True,
                "PriceClass": "PriceClass_All",
                "Origins": [{
                    "Id": "console", "DomainName": {"Fn::GetAtt": ["ConsoleBucket", "RegionalDomainName"]},
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                    "OriginAccessControlId": {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]},
                }],
                "DefaultCacheBehavior": {
                    "TargetOriginId": "console", "ViewerProtocolPolicy": "redirect-to-https",
                    "AllowedMethods": ["GET", "HEAD"], "Compress": True, "CachePolicyId": CACHING_OPTIMIZED,
                    "ResponseHeadersPolicyId": {"Ref": "ConsoleHeadersPolicy"},
                },
                "CacheBehaviors": [{
                    "PathPattern": "/config.json", "TargetOriginId": "console",
                    "ViewerProtocolPolicy": "redirect-to-https", "AllowedMethods": ["GET", "HEAD"],
                    "CachePolicyId": CACHING_DISABLED, "ResponseHeadersPolicyId": {"Ref": "ConsoleHeadersPolicy"},
                    "FunctionAssociations": [{"EventType": "viewer-request",
                                              "FunctionARN": {"Fn::GetAtt": ["ConsoleConfigFunction", "FunctionARN"]}}],
                }],
            }},
        },
    }  # fmt: skip


def _alarm(description: str, metric: Json, threshold: float, *, periods: int = 1, period: int = 300) -> Json:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": threshold,
            "EvaluationPeriods": periods,
            **({} if "Metrics" in metric else {"Period": period}),
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "OKActions": [{"Ref": "AlarmTopic"}],
            **metric,
        },
    }


def _metric(namespace: str, name: str, dimensions: dict[str, Any], statistic: str = "Sum") -> Json:
    return {
        "Namespace": namespace,
        "MetricName": name,
        "Statistic": statistic,
        "Dimensions": [{"Name": key, "Value": value} for key, value in dimensions.items()],
    }


def monitoring(spec: StageSpec) -> Json:
    """Alarms to one SNS topic: API 5xx, throttles, function errors, batch-queue age and DLQ, redeem failures."""
    api = {"ApiName": f"{spec.prefix}-api", "Stage": API_GATEWAY_STAGE}
    resources: Json = {
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": f"{spec.prefix}-alarms", "KmsMasterKeyId": "alias/aws/sns"},
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        },
        "Api5xxAlarm": _alarm(
            "API Gateway answered 5xx more than 1% of requests for 10 minutes",
            _metric("AWS/ApiGateway", "5XXError", api, "Average"), 0.01, periods=2,
        ),
        "AppTableThrottleAlarm": _alarm(
            "DynamoDB throttled requests on the application table",
            {"Metrics": [
                {"Id": "reads", "ReturnData": False, "MetricStat": {"Stat": "Sum", "Period": 300, "Metric": {
                    "Namespace": "AWS/DynamoDB", "MetricName": "ReadThrottleEvents",
                    "Dimensions": [{"Name": "TableName", "Value": {"Ref": "AppTable"}}]}}},
                {"Id": "writes", "ReturnData": False, "MetricStat": {"Stat": "Sum", "Period": 300, "Metric": {
                    "Namespace": "AWS/DynamoDB", "MetricName": "WriteThrottleEvents",
                    "Dimensions": [{"Name": "TableName", "Value": {"Ref": "AppTable"}}]}}},
                {"Id": "throttles", "Expression": "reads + writes", "Label": "Throttle events", "ReturnData": True},
            ]}, 0,
        ),
        "BatchQueueAgeAlarm": _alarm(
            "A large batch has waited over 15 minutes for the batch worker",
            _metric("AWS/SQS", "ApproximateAgeOfOldestMessage",
                    {"QueueName": {"Fn::GetAtt": ["BatchQueue", "QueueName"]}}, "Maximum"), 900,
        ),
        "BatchDeadLetterAlarm": _alarm(
            "A batch failed five times and is in the dead-letter queue",
            _metric("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                    {"QueueName": {"Fn::GetAtt": ["BatchDeadLetterQueue", "QueueName"]}}, "Maximum"), 0,
        ),
        "RedeemFailureFilter": {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "LogGroupName": {"Ref": "ApiHandlerLogGroup"},
                # observability.log_requests: one JSON line per request, route as its template.
                "FilterPattern": '{ $.message = "request" && $.route = "/v1/redeem" && $.status >= 400 }',
                "MetricTransformations": [{
                    "MetricNamespace": f"Kuota/{spec.name}", "MetricName": "RedeemFailures", "MetricValue": "1",
                    "DefaultValue": 0, "Unit": "Count",
                }],
            },
        },
        "RedeemFailureAlarm": _alarm(
            "Redeem failures spiked (invalid codes, brute force, a broken controller)",
            _metric(f"Kuota/{spec.name}", "RedeemFailures", {}), spec.redeem_failures_per_5_minutes,
        ),
    }
    for function in FUNCTIONS:
        name = cfn_name(function)
        dimensions = {"FunctionName": {"Ref": name}}
        resources[f"{name}ErrorsAlarm"] = _alarm(
            f"{function} raised errors", _metric("AWS/Lambda", "Errors", dimensions), 0 if function != "api_handler"
            else 5,
        )  # fmt: skip
        resources[f"{name}ThrottlesAlarm"] = _alarm(
            f"{function} was throttled (concurrency limit)", _metric("AWS/Lambda", "Throttles", dimensions), 0
        )
    return resources


def functions(spec: StageSpec) -> Json:
    """Chalice's functions, completed: names, runtime, the resources' names in the environment."""
    resources: Json = {}
    for function in FUNCTIONS:
        properties: Json = {
            "FunctionName": function_name(spec, function),
            "Runtime": LAMBDA_RUNTIME,
            "Environment": {"Variables": _resource_environment()},
        }
        # Chalice points the SQS event source at the queue by name; KUOTA_BATCH_QUEUE's GetAtt
        # makes every function (and so the event source mapping) wait for the queue.
        resources[cfn_name(function)] = {"Properties": properties}
    # Chalice 1.34 names the API's log group after `ApiHandler`, a resource that does not exist.
    resources["ApiHandlerLogGroup"] = {"Properties": {"LogGroupName": _sub("/aws/lambda/${APIHandler}")}}
    resources["RestAPI"] = {
        "Properties": {
            "Name": f"{spec.prefix}-api",
            "MethodSettings": [{
                "ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
                "ThrottlingRateLimit": spec.throttle_rate, "ThrottlingBurstLimit": spec.throttle_burst,
            }],
        }
    }  # fmt: skip
    return resources


def merge_template(spec: StageSpec) -> Json:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Kuota stage {spec.name}: API, scheduled jobs, batch worker, tables, secrets, console, alarms",
        "Parameters": {
            "ConsoleCertificateArn": {
                "Type": "String",
                "Description": f"ACM certificate in us-east-1 for {spec.console_domain} (CloudFront's requirement)",
                "AllowedPattern": "^arn:aws:acm:us-east-1:[0-9]{12}:certificate/.+$",
            },
            "AlarmEmail": {"Type": "String", "Default": "", "Description": "Where alarms are emailed (optional)"},
        },
        "Conditions": {"HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}},
        "Resources": {
            **tables(spec), **queues(spec), **secrets(spec), **console(spec), **monitoring(spec), **functions(spec),
        },
        "Outputs": {
            "ApiUrl": {"Value": _sub(f"https://${{RestAPI}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/"
                                     f"{API_GATEWAY_STAGE}/")},
            "ConsoleUrl": {"Value": spec.console_origin},
            "ConsoleDistributionDomain": {"Value": {"Fn::GetAtt": ["ConsoleDistribution", "DomainName"]}},
            "ConsoleDistributionId": {"Value": {"Ref": "ConsoleDistribution"}},
            "ConsoleBucketName": {"Value": {"Ref": "ConsoleBucket"}},
            "AppTableName": {"Value": {"Ref": "AppTable"}},
            "AuditTableName": {"Value": {"Ref": "AuditTable"}},
            "BatchQueueUrl": {"Value": {"Ref": "BatchQueue"}},
            "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
        },
    }  # fmt: skip
