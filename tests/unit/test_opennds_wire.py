"""Kuota reads what openNDS's own PHP writes, and the router double writes what openNDS's FAS reads.

Runs the PHP that openNDS runs (`src/http_microhttpd.c`'s encryption snippet, verbatim but for
the values; `fas-aes-https.php`'s decrypt_parse) with Debian's php-cli, so the AES-256-CBC key
handling, the IV and the double base64 are checked against PHP's openssl, not against our
reading of it.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from chalicelib.opennds import decrypt_query, gateway_hash, return_hash
from tests.e2e.opennds_client import OpenNdsRouter

pytestmark = pytest.mark.skipif(shutil.which("php") is None, reason="php-cli is missing: run `make system-deps`")

FASKEY = "c775e7b757ede630cd0aa1113bd102661ab38829ca52a6422ab782862f268646"  # openNDS's example key
QUERY = (
    "hid=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, clientip=192.168.8.23, "
    "clientmac=0c:8b:fd:12:34:56, client_type=cpd_can, cpi_query=none, gatewayname=kuota-site1-ab12, "
    "gatewayurl=http%3A%2F%2F192.168.8.1%3A2050%2F, version=10.3.0, gatewayaddress=192.168.8.1:2050, "
    "gatewaymac=0a1b2c3d4e5f, authdir=opennds_auth, originurl=http%3A%2F%2Fexample.com%2F, clientif=br-lan, "
    "themespec=, "
)


def _php(code: str) -> str:
    return subprocess.run(["php"], input=code, capture_output=True, text=True, check=True, timeout=30).stdout


def test_kuota_decrypts_the_query_string_openNDS_encrypts() -> None:
    # http_microhttpd.c, fas_secure_enabled 2 and 3:
    out = _php(
        "<?php \n"
        f'$key="{FASKEY}";\n'
        f'$string="{QUERY}";\n'
        '$cipher="aes-256-cbc";\n'
        "if (in_array($cipher, openssl_get_cipher_methods())) {\n"
        '$secret_iv = base64_encode(openssl_random_pseudo_bytes("8"));\n'
        '$iv = substr(openssl_digest($secret_iv, "sha256"), 0, 16 );\n'
        "$string = base64_encode( openssl_encrypt( $string, $cipher, $key, 0, $iv ) );\n"
        'echo "?fas=".$string."&iv=".$iv;\n'
        "}\n"
        " ?>"
    )
    fas, iv = out.removeprefix("?fas=").split("&iv=")
    fields = decrypt_query(fas, iv, FASKEY)
    assert fields["clientmac"] == "0c:8b:fd:12:34:56"
    assert fields["hid"].startswith("9f86d081")
    assert fields["gatewayname"] == "kuota-site1-ab12"


def test_openNDS_fas_reads_what_the_router_double_encrypts() -> None:
    router = OpenNdsRouter(fas_url="https://kuota.test/v1/fas/gateways/site1", faskey=FASKEY,
                           gateway_name="kuota-site1-ab12", post=lambda url, form: "")  # fmt: skip
    url = router.redirect_url("0c:8b:fd:12:34:56", "192.168.8.23")
    query = url.split("?", 1)[1]
    # fas-aes-https.php: decrypt_parse() and the hashes it makes.
    out = _php(
        "<?php\n"
        f'parse_str("{query}", $_GET);\n'
        f'$key="{FASKEY}";\n'
        "$decrypted=openssl_decrypt( base64_decode( $_GET['fas'] ), \"AES-256-CBC\", $key, 0, $_GET['iv'] );\n"
        '$dec_r=explode(", ",$decrypted);\n'
        'foreach ($dec_r as $dec) { @list($name,$value)=explode("=",$dec); $p[$name]=$value; }\n'
        "echo $p['clientmac'].\"\\n\".hash('sha256', trim($p['gatewayname'])).\"\\n\"."
        "hash('sha256', trim($p['hid']).trim($key)).\"\\n\";\n"
    )
    mac, gwhash, rhid = out.split()
    client = router.clients["0c:8b:fd:12:34:56"]
    assert mac == "0c:8b:fd:12:34:56"
    assert gwhash == router.gatewayhash == gateway_hash("kuota-site1-ab12")
    assert rhid == return_hash(client.hid, FASKEY)
