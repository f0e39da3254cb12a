"""Deploy, destroy and re-key a stage on AWS: what `make deploy|destroy|keys|rotate-keys` run.

    python -m infra.deploy deploy  --stage prod --certificate-arn ARN --artifact-bucket BUCKET [--alarm-email E]
    python -m infra.deploy check   --stage prod            # credentials and deploy parameters only
    python -m infra.deploy destroy --stage dev
    python -m infra.deploy keys    --stage prod            # fill the key secrets once, after the first deploy
    python -m infra.deploy admin   --stage prod --email E  # the first platform admin (password printed once)
    python -m infra.deploy rotate-keys --stage prod --step add|activate|retire

Every command first checks that real AWS credentials are at hand (and that no
emulator endpoint is set) and refuses otherwise. Deploying uses the AWS CLI
(`aws cloudformation package|deploy`, `aws s3 sync`); docs/deploy.md is the
walk-through. Nothing here runs in the test suite except the refusal.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.stack import FUNCTIONS, SECRETS, StageSpec, function_name, stage_spec

ROOT = Path(__file__).resolve().parents[1]


class Refused(Exception):
    """A command that must not run here; the message says why and what to do."""


def require_aws() -> str:
    """The caller's AWS account id, or Refused with a clear message."""
    for variable in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        if os.environ.get(variable):
            raise Refused(f"{variable} is set ({os.environ[variable]}): unset it to deploy to AWS, not an emulator.")
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.session.Session()
    if session.get_credentials() is None:
        raise Refused(
            "No AWS credentials: configure a profile (aws configure sso, or AWS_PROFILE=...) "
            "or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then run this again. Nothing was changed."
        )
    if not session.region_name:
        raise Refused("No AWS region: export AWS_REGION (Kuota's default is ap-southeast-3, Jakarta).")
    try:
        return str(session.client("sts").get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as error:
        raise Refused(f"AWS credentials did not work ({error}). Nothing was changed.") from None


def stack_name(spec: StageSpec) -> str:
    return spec.prefix


def _aws(*args: str) -> None:
    if shutil.which("aws") is None:
        raise Refused("The AWS CLI v2 (`aws`) is needed for packaging and syncing: install it, then run again.")
    print("+ aws " + " ".join(args), flush=True)
    subprocess.run(["aws", *args], check=True)  # noqa: S603, S607  # nosec B607


def _outputs(spec: StageSpec) -> dict[str, str]:
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=stack_name(spec))["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def deploy(spec: StageSpec, *, certificate_arn: str, artifact_bucket: str, alarm_email: str) -> None:
    build = ROOT / "build" / spec.name
    if not (build / "sam.json").exists():
        raise Refused(f"No template in {build}: run `make synth STAGE={spec.name}` first.")
    packaged = build / "packaged.json"
    _aws("cloudformation", "package", "--template-file", str(build / "sam.json"), "--s3-bucket", artifact_bucket,
         "--s3-prefix", stack_name(spec), "--use-json", "--output-template-file", str(packaged))  # fmt: skip
    _aws("cloudformation", "deploy", "--template-file", str(packaged), "--stack-name", stack_name(spec),
         "--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND", "--no-fail-on-empty-changeset",
         "--parameter-overrides", f"ConsoleCertificateArn={certificate_arn}", f"AlarmEmail={alarm_email}")  # fmt: skip
    fill_keys(spec)
    outputs = _outputs(spec)
    dist = ROOT / "frontend" / "dist"
    if not dist.is_dir():
        raise Refused("No console build: run `make console`, then `make deploy` again (the stack is up).")
    # /config.json is answered by a CloudFront function (infra/stack.py), never from the bucket.
    _aws("s3", "sync", str(dist), f"s3://{outputs['ConsoleBucketName']}/", "--delete", "--exclude", "config.json")
    _aws("cloudfront", "create-invalidation", "--distribution-id", outputs["ConsoleDistributionId"], "--paths", "/*")
    print(f"\nKuota {spec.name} is up.\n  API:     {outputs['ApiUrl']}\n  console: {outputs['ConsoleUrl']} "
          f"(CNAME it to {outputs['ConsoleDistributionDomain']})")  # fmt: skip


def destroy(spec: StageSpec) -> None:
    if spec.retain:
        raise Refused(f"Stage {spec.name} keeps its data (Retain, deletion protection): it is not destroyed by make.")
    import boto3

    outputs = _outputs(spec)
    _aws("s3", "rm", f"s3://{outputs['ConsoleBucketName']}/", "--recursive")
    bucket = boto3.resource("s3").Bucket(outputs["ConsoleBucketName"])
    bucket.object_versions.delete()  # a versioned bucket must be empty of old versions too
    _aws("cloudformation", "delete-stack", "--stack-name", stack_name(spec))
    _aws("cloudformation", "wait", "stack-delete-complete", "--stack-name", stack_name(spec))


def _uninitialised(document: str) -> bool:
    try:
        return bool(json.loads(document).get("uninitialised"))
    except ValueError:
        return False


def fill_keys(spec: StageSpec) -> None:
    """Write real key sets into secrets that still hold the deploy-time placeholder; never overwrite keys."""
    import boto3

    from chalicelib.auth.signing_keys import new_key_document
    from chalicelib.codes import _new_code_keys
    from chalicelib.services.chain import new_ledger_key

    client = boto3.client("secretsmanager")
    makers = {"JwtKeysSecret": new_key_document, "CodeKeysSecret": _new_code_keys, "LedgerKeySecret": new_ledger_key}
    for logical_id, (suffix, _) in SECRETS.items():
        name = spec.secret_name(suffix)
        if _uninitialised(client.get_secret_value(SecretId=name)["SecretString"]):
            client.put_secret_value(SecretId=name, SecretString=makers[logical_id]())
            print(f"Generated {name}")
        else:
            print(f"{name} already holds keys: unchanged")


def rotated_jwt_keys(document: str, step: str, *, now: datetime | None = None) -> str:
    """The JWT key set after one rotation step (pure; docs/deploy.md explains the order).

    add: a new key joins the set, the active key stays; activate: the newest key signs;
    retire: only the active key remains.
    """
    from chalicelib.auth.signing_keys import new_key_document

    data: dict[str, Any] = json.loads(document)
    if step == "add":
        added = json.loads(new_key_document(document))  # fresh key, made active: keep the old one active
        return json.dumps({"active": data["active"], "keys": added["keys"]}, indent=2)
    if step == "activate":
        waiting = [kid for kid in data["keys"] if kid != data["active"]]
        if len(waiting) != 1:
            raise ValueError(f"activate needs exactly one added key besides the active one, found {len(waiting)}")
        return json.dumps({"active": waiting[0], "keys": data["keys"]}, indent=2)
    if step == "retire":
        return json.dumps({"active": data["active"], "keys": {data["active"]: data["keys"][data["active"]]}}, indent=2)
    raise ValueError(f"unknown rotation step {step!r}: add, activate or retire")


def rotate_keys(spec: StageSpec, step: str) -> None:
    import boto3

    name = spec.secret_name(SECRETS["JwtKeysSecret"][0])
    secrets = boto3.client("secretsmanager")
    secrets.put_secret_value(
        SecretId=name, SecretString=rotated_jwt_keys(secrets.get_secret_value(SecretId=name)["SecretString"], step)
    )
    # Containers read the key set once: a configuration change makes every function start fresh ones.
    client = boto3.client("lambda")
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for function in FUNCTIONS:
        client.update_function_configuration(
            FunctionName=function_name(spec, function), Description=f"JWT keys {step} at {stamp}"
        )
    print(f"{name}: {step} done at {stamp}; every function now starts with the new key set.")


def ensure_admin(spec: StageSpec, email: str) -> None:
    """The first platform admin, written straight to the stage's tables with the operator's credentials."""
    import secrets

    os.environ.update(
        KUOTA_STAGE=spec.name, KUOTA_APP_TABLE=f"{spec.prefix}-app", KUOTA_AUDIT_TABLE=f"{spec.prefix}-audit",
        KUOTA_IDEMPOTENCY_TABLE=f"{spec.prefix}-idempotency",
    )  # fmt: skip
    from chalicelib.api.deps import services

    password = os.environ.get("KUOTA_ADMIN_PASSWORD") or secrets.token_urlsafe(18)
    _, created = services().accounts.ensure_platform_admin(email, password)
    if not created:
        print(f"Platform admin {email} already exists; its password is unchanged.")
    elif os.environ.get("KUOTA_ADMIN_PASSWORD"):
        print(f"Created platform admin {email} with the password from KUOTA_ADMIN_PASSWORD.")
    else:
        print(f"Created platform admin {email}; password (shown once, change it after signing in): {password}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy")
    parser.add_argument("command", choices=["check", "deploy", "destroy", "keys", "rotate-keys", "admin"])
    parser.add_argument("--stage", required=True, choices=["dev", "prod"])
    parser.add_argument("--certificate-arn", default=os.environ.get("CERTIFICATE_ARN", ""))
    parser.add_argument("--artifact-bucket", default=os.environ.get("ARTIFACT_BUCKET", ""))
    parser.add_argument("--alarm-email", default=os.environ.get("ALARM_EMAIL", ""))
    parser.add_argument("--console-origin", default=os.environ.get("CONSOLE_ORIGIN") or None)
    parser.add_argument("--step", choices=["add", "activate", "retire"])
    parser.add_argument("--email", default=os.environ.get("KUOTA_ADMIN_EMAIL", ""))
    args = parser.parse_args(argv)
    spec = stage_spec(args.stage, args.console_origin)
    try:
        account = require_aws()
        print(f"AWS account {account}, stage {spec.name}", flush=True)
        if args.command in ("check", "deploy") and (not args.certificate_arn or not args.artifact_bucket):
            raise Refused("deploy needs CERTIFICATE_ARN (ACM, us-east-1) and ARTIFACT_BUCKET (see docs/deploy.md).")
        if args.command == "check":
            pass  # `make deploy` asks before it spends minutes on synth and the console build
        elif args.command == "deploy":
            deploy(spec, certificate_arn=args.certificate_arn, artifact_bucket=args.artifact_bucket,
                   alarm_email=args.alarm_email)  # fmt: skip
        elif args.command == "destroy":
            destroy(spec)
        elif args.command == "keys":
            fill_keys(spec)
        elif args.command == "admin":
            if not args.email:
                raise Refused("admin needs KUOTA_ADMIN_EMAIL=<email> (password: KUOTA_ADMIN_PASSWORD or generated).")
            ensure_admin(spec, args.email)
        elif args.command == "rotate-keys":
            if not args.step:
                raise Refused("rotate-keys needs STEP=add, STEP=activate or STEP=retire (docs/deploy.md).")
            rotate_keys(spec, args.step)
    except Refused as refusal:
        print(f"Refusing to {args.command} stage {spec.name}: {refusal}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
