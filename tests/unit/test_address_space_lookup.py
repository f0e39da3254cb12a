"""The address-space lookup: one bisect per IP version finds the prefix holding an address (no emulator)."""

from __future__ import annotations

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.services.address_space import AddressSpace, Prefix, validate_prefixes


def test_the_lookup_answers_for_the_prefix_holding_the_address() -> None:
    space = AddressSpace(validate_prefixes([
        ("203.0.113.0/24", 64500, "a"), ("10.0.0.0/8", 64501, None), ("2001:db8::/32", 64502, None),
        ("192.0.2.7/32", 64503, None), ("100.64.0.0/10", 64504, None),
    ]))  # fmt: skip
    found = {address: (space.find(address) or Prefix("-", 0)).asn for address in (
        "203.0.113.0", "203.0.113.255", "203.0.114.0", "10.255.255.255", "11.0.0.0", "192.0.2.7", "192.0.2.8",
        "2001:db8:ffff::1", "2001:db9::", "::ffff:203.0.113.5", "fe80::1%eth0", "not-an-address", "100.127.0.1")}
    assert found == {
        "203.0.113.0": 64500, "203.0.113.255": 64500, "203.0.114.0": 0, "10.255.255.255": 64501, "11.0.0.0": 0,
        "192.0.2.7": 64503, "192.0.2.8": 0, "2001:db8:ffff::1": 64502, "2001:db9::": 0,
        "::ffff:203.0.113.5": 64500, "fe80::1%eth0": 0, "not-an-address": 0, "100.127.0.1": 64504,
    }  # fmt: skip


def test_an_empty_list_means_no_address_space_is_configured() -> None:
    space = AddressSpace(validate_prefixes([("203.0.113.0/24", 64500, None)]))
    assert AddressSpace([]).status("203.0.113.1") == "unknown"
    assert space.status("203.0.113.1") == "registered"
    assert space.status("198.51.100.1") == "unregistered"
    assert space.status("127.0.0.1") == "unregistered"  # loopback and private addresses are just checked too


def test_adjacent_prefixes_do_not_overlap_but_a_covering_one_does() -> None:
    validate_prefixes([("10.0.0.0/25", 1, None), ("10.0.0.128/25", 1, None), ("10.0.1.0/24", 1, None)])
    with pytest.raises(ValidationFailed) as raised:
        validate_prefixes([("10.0.0.0/25", 1, None), ("10.0.0.128/25", 1, None), ("10.0.0.0/23", 1, None)])
    assert raised.value.field == "prefixes.2.cidr"
    assert "10.0.0.0/23 overlaps 10.0.0.0/25 (prefixes.0)" in raised.value.message
