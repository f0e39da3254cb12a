"""Reading rlm_rest's attributes and spelling guests' messages: pure functions, no emulator."""

from __future__ import annotations

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.services.guest_messages import rejection, welcome
from chalicelib.services.radius import Attributes, normalise_mac


@pytest.mark.parametrize(
    "spelling",
    ["AA-BB-CC-DD-EE-0F", "aa-bb-cc-dd-ee-0f", "aabb.ccdd.ee0f", "AABB.CCDD.EE0F", "AABBCCDDEE0F",
     "aa:bb:cc:dd:ee:0f", " AA:BB:CC:DD:EE:0F "],
)  # fmt: skip
def test_every_vendor_spelling_of_a_mac_reads_the_same(spelling: str) -> None:
    assert normalise_mac(spelling) == "aa:bb:cc:dd:ee:0f"


@pytest.mark.parametrize("value", [None, "", "AA-BB-CC-DD-EE", "AA-BB-CC-DD-EE-FF-00", "ZZ-BB-CC-DD-EE-FF", "0x1234"])
def test_what_is_not_a_mac_is_none(value: str | None) -> None:
    assert normalise_mac(value) is None


def test_attributes_read_first_values_and_tolerate_bare_ones() -> None:
    attributes = Attributes({
        "User-Name": {"type": "string", "value": ["K7QF-M2XD-9P"]},
        "Acct-Input-Octets": {"type": "integer", "value": [12]},
        "Acct-Output-Octets": "34",
        "Class": {"type": "octets", "value": ["0x01", "0x02"]},
    })  # fmt: skip
    assert attributes.text("User-Name") == "K7QF-M2XD-9P"
    assert (attributes.number("Acct-Input-Octets"), attributes.number("Acct-Output-Octets")) == (12, 34)
    assert attributes.number("Acct-Input-Gigawords") == 0 and attributes.text("NAS-Identifier") is None


@pytest.mark.parametrize("attribute", [{"type": "string"}, {"value": [{"a": 1}]}, {"value": [[1]]}])
def test_malformed_attributes_name_themselves(attribute: object) -> None:
    with pytest.raises(ValidationFailed) as raised:
        Attributes({"User-Name": attribute})
    assert raised.value.field == "User-Name"


def test_messages_in_both_languages_and_a_fallback() -> None:
    three_days = 3 * 86400 + 7200 + 59
    assert welcome("id", three_days, 300 * 1048576) == "Tersambung. Sisa waktu: 3 hari 2 jam. Sisa kuota: 300 MB."
    assert welcome("en", 45, None) == "Connected. Time left: < 1 min."
    assert rejection("wrong_site", "en") == "This voucher is not valid at this location."
    assert rejection("wrong_site", "fr") == "Voucher ini tidak berlaku di lokasi ini."
    assert rejection("something_new", "id") == "Voucher ini tidak dapat dipakai saat ini."
