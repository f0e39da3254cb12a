"""The router side of openNDS FAS level 3, as openNDS itself speaks it (a test double of a router).

Re-implemented from openNDS's source, independently of Kuota's own code:
- `src/client_list.c`: a client gets token = `%04hx%04hx` of two random 16-bit numbers and
  hid = sha256sum(token).
- `src/http_microhttpd.c` (level 2/3): the query string `hid=..., clientip=..., ...` is encrypted by
  PHP: `$secret_iv = base64_encode(openssl_random_pseudo_bytes("8"));
  $iv = substr(openssl_digest($secret_iv, "sha256"), 0, 16);
  $string = base64_encode(openssl_encrypt($string, "aes-256-cbc", $key, 0, $iv));`
  and the guest is redirected to `https://fasremotefqdn:fasport/faspath?fas=$string&iv=$iv`.
- `src/main.c`: authmon is started with the FAS URL and gatewayhash = sha256 of the url-encoded
  gateway name. `libs/authmon.sh` + `libs/post-request.php`: every few seconds it POSTs
  `auth_get=view&gatewayhash=..&payload=base64("none")`; a reply `* e1 e2` lists url-encoded
  entries `rhid sessionlength uploadrate downloadrate uploadquota downloadquota custom`; each is
  passed to `ndsctl auth`, and the rhids that authenticated are acknowledged with a second
  `view` whose payload is base64("* rhid1 rhid2"). At start it sends `auth_get=clear`.
- A client is let in when rhid == sha256(hid + faskey) (`src/http_microhttpd.c`, try_to_authenticate).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlencode

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# (url, form fields) -> reply body; the test decides how it reaches Kuota.
Post = Callable[[str, dict[str, str]], str]


def _sha256sum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _php_openssl_encrypt(plaintext: str, key: str, iv: str) -> str:
    """PHP's openssl_encrypt($s, "aes-256-cbc", $key, 0, $iv): base64 output, key NUL-padded/cut to 32."""
    key_bytes = key.encode()[:32].ljust(32, b"\0")
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key_bytes), modes.CBC(iv.encode())).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


@dataclass
class Client:
    mac: str
    ip: str
    token: str = field(default_factory=lambda: f"{secrets.randbits(16):04x}{secrets.randbits(16):04x}")
    authenticated: bool = False
    session_minutes: int = 0
    upload_rate: int = 0
    download_rate: int = 0
    upload_quota: int = 0
    download_quota: int = 0

    @property
    def hid(self) -> str:
        return _sha256sum(self.token)


@dataclass
class OpenNdsRouter:
    """A gateway running openNDS with fas_secure_enabled '3' against a remote FAS."""

    fas_url: str  # https://fasremotefqdn:fasport/faspath (http on loopback in tests)
    faskey: str
    gateway_name: str
    post: Post
    gateway_address: str = "192.168.8.1:2050"
    clients: dict[str, Client] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    @property
    def url_encoded_gateway_name(self) -> str:
        return quote(self.gateway_name, safe="-_.~")

    @property
    def gatewayhash(self) -> str:
        return _sha256sum(self.url_encoded_gateway_name)

    # ---- a client's captive-portal redirect ----

    def redirect_url(self, mac: str, ip: str, origin_url: str = "http://connectivitycheck.gstatic.com/") -> str:
        """What the guest's browser is sent to when it tries to reach the Internet."""
        client = self.clients.setdefault(mac, Client(mac=mac, ip=ip))
        query = ", ".join(
            [
                f"hid={client.hid}",
                f"clientip={client.ip}",
                f"clientmac={client.mac}",
                "client_type=cpd_can",
                "cpi_query=none",
                f"gatewayname={self.url_encoded_gateway_name}",
                f"gatewayurl={quote('http://' + self.gateway_address + '/', safe='')}",
                "version=10.3.0",
                f"gatewayaddress={self.gateway_address}",
                "gatewaymac=0a1b2c3d4e5f",
                "authdir=opennds_auth",
                f"originurl={quote(origin_url, safe='')}",
                "clientif=br-lan",
                "themespec=",
                "",
            ]
        )
        secret_iv = base64.b64encode(os.urandom(8)).decode()
        iv = _sha256sum(secret_iv)[:16]
        fas = base64.b64encode(_php_openssl_encrypt(query, self.faskey, iv).encode()).decode()
        return f"{self.fas_url}?{urlencode({'fas': fas, 'iv': iv})}"

    # ---- authmon ----

    def _request(self, action: str, payload: str) -> str:
        form = {"auth_get": action, "gatewayhash": self.gatewayhash,
                "payload": base64.b64encode(payload.encode()).decode()}  # fmt: skip
        return self.post(self.fas_url, form).strip()

    def start_authmon(self) -> str:
        return self._request("clear", "none")

    def poll_once(self) -> list[str]:
        """One turn of authmon's loop; returns the auth-list entries it received (decoded)."""
        authlist = self._request("view", "none")
        received: list[str] = []
        acklist = "*"
        if authlist.startswith("*"):
            for encoded in authlist[2:1024].split()[:4]:  # authmon takes at most 4 per turn
                params = unquote(encoded)
                received.append(params)
                if self._ndsctl_auth(params):
                    acklist += " " + params.split()[0]
        else:
            self.log.append(authlist)
        ack = self._request("view", acklist)
        self.log.append(f"ack reply: {ack}")
        return received

    def _ndsctl_auth(self, params: str) -> bool:
        rhid, *rest = params.split()
        for client in self.clients.values():
            if _sha256sum(client.hid + self.faskey) == rhid:
                numbers = [int(value) for value in rest[:5]] + [0] * (5 - len(rest[:5]))
                (client.session_minutes, client.upload_rate, client.download_rate, client.upload_quota,
                 client.download_quota) = numbers  # fmt: skip
                client.authenticated = True
                return True
        return False
