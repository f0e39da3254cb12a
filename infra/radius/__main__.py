"""`make radius`: FreeRADIUS in the foreground on loopback, in front of `make dev`'s API.

    KUOTA_RADIUS_KEY=<radius key> make radius

The radius key comes from the console (organisation > keys, kind "radius") or
`POST /v1/orgs/{org_id}/keys` with `{"kind": "radius", "name": ...}`; FreeRADIUS
sends it to Kuota as the HTTP basic-auth password. Register the NAS too
(`POST /v1/orgs/{org_id}/sites/{site_id}/nas` with `nas_ip` 127.0.0.1 to test
with radclient from this machine). Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import threading

from infra.radius import LOOPBACK, RadiusError, RadiusSettings, running


def _options() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m infra.radius",
        description="FreeRADIUS (Debian's, with infra/radius/) on loopback, answering from Kuota's API.",
        epilog="The radius key is read from KUOTA_RADIUS_KEY only (never a command-line argument, which "
        "other users can see in the process list). Create one in the console or with "
        'POST /v1/orgs/{org_id}/keys {"kind": "radius", "name": "freeradius"}, and register the NAS '
        "(nas_ip 127.0.0.1 for radclient on this machine) under the site.",
    )
    parser.add_argument("--api-url", default=env("KUOTA_API_URL", "http://127.0.0.1:8000"),
                        help="Kuota's API (KUOTA_API_URL; default make dev's http://127.0.0.1:8000)")
    parser.add_argument("--auth-port", type=int, default=int(env("KUOTA_RADIUS_AUTH_PORT", "1812")))
    parser.add_argument("--acct-port", type=int, default=int(env("KUOTA_RADIUS_ACCT_PORT", "1813")))
    parser.add_argument("--coa-port", type=int, default=int(env("KUOTA_NAS_COA_PORT", "3799")),
                        help="the NAS's port for Disconnect-Requests (RFC 5176: 3799)")
    return parser.parse_args()  # fmt: skip


def main() -> int:
    options = _options()
    key = os.environ.get("KUOTA_RADIUS_KEY", "")
    if not key:
        print("KUOTA_RADIUS_KEY is not set: create a radius key for the organisation (see --help)", file=sys.stderr)
        return 2
    secret = os.environ.get("KUOTA_NAS_SECRET") or secrets.token_urlsafe(12)
    settings = RadiusSettings(
        api_url=options.api_url, radius_key=key, nas_secret=secret,
        auth_port=options.auth_port, acct_port=options.acct_port, nas_coa_port=options.coa_port,
    )  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with running(settings, echo=True) as server:
            # The NAS secret is this loopback test NAS's, printed so radclient can be pointed at it.
            print(f"FreeRADIUS answers on {LOOPBACK}:{settings.auth_port} (auth) and :{settings.acct_port} (acct) "
                  f"from {settings.api_url}; NAS {LOOPBACK} secret {secret!r} (KUOTA_NAS_SECRET), "
                  f"disconnects to port {settings.nas_coa_port}. Try:\n"
                  f"  echo 'User-Name=CODE,User-Password=CODE,Calling-Station-Id=AA-BB-CC-DD-EE-FF,"
                  f"NAS-IP-Address={LOOPBACK}' | "
                  f"radclient -x {LOOPBACK}:{settings.auth_port} auth '{secret}'", flush=True)  # fmt: skip
            while not stop.wait(0.5) and server.process.poll() is None:
                pass
            return 0 if stop.is_set() or server.process.poll() in (None, 0) else 1
    except RadiusError as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
