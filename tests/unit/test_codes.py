"""Codes: unique by construction, typed forgivingly, never stored in clear."""

from __future__ import annotations

import pytest

from chalicelib.codes import ALPHABETS, CodeGenerator, CodeShape, code_hash, display, normalise, overlaps


def test_a_shape_yields_distinct_codes_of_its_alphabet() -> None:
    shape = CodeShape(alphabet="digits", length=6)
    generator = CodeGenerator("org1", shape)
    codes = [generator.code(n) for n in range(5000)]
    assert len(set(codes)) == 5000
    assert all(len(code) == 6 and set(code) <= set(ALPHABETS["digits"]) for code in codes)


def test_codes_are_a_permutation_of_the_whole_space() -> None:
    """Every code of a shape is reached exactly once: no collision is possible."""
    shape = CodeShape(alphabet="digits", length=6)
    generator = CodeGenerator("org1", shape)
    sample = {generator.code(n) for n in range(0, shape.capacity, 997)}
    assert len(sample) == len(range(0, shape.capacity, 997))


def test_organisations_and_shapes_get_unrelated_codes() -> None:
    shape = CodeShape()
    assert CodeGenerator("org1", shape).code(1) != CodeGenerator("org2", shape).code(1)
    assert CodeGenerator("org1", shape).code(1) != CodeGenerator("org1", shape).code(2)


def test_prefix_and_default_shape() -> None:
    code = CodeGenerator("org1", CodeShape(prefix="KOP")).code(7)
    assert code.startswith("KOP") and len(code) == 13
    assert CodeShape().entropy_bits == 50.0 and CodeShape(alphabet="digits", length=6).entropy_bits < 40


@pytest.mark.parametrize("typed", ["k7qf-m2xd-9p", " K7QF M2XD 9P ", "K7QFM2XD9P", "k7qf_m2xd9p"])
def test_entry_ignores_case_spaces_and_dashes(typed: str) -> None:
    assert normalise(typed) == "K7QFM2XD9P"
    assert code_hash("org1", typed) == code_hash("org1", "K7QFM2XD9P")


def test_lookalikes_are_read_as_the_characters_they_resemble() -> None:
    assert normalise("o1l") == "011"


def test_hash_is_keyed_by_organisation_and_hides_the_code() -> None:
    assert code_hash("org1", "K7QFM2XD9P") != code_hash("org2", "K7QFM2XD9P")
    assert "K7QF" not in code_hash("org1", "K7QFM2XD9P")


def test_display_groups_by_four() -> None:
    assert display("K7QFM2XD9P") == "K7QF-M2XD-9P"


@pytest.mark.parametrize(
    ("first", "second", "clash"),
    [
        (CodeShape("digits", 8), CodeShape("mixed", 8), True),
        (CodeShape("digits", 8), CodeShape("letters", 8), False),
        (CodeShape("mixed", 8), CodeShape("mixed", 9), False),
        (CodeShape("mixed", 8, "AB"), CodeShape("mixed", 9, "A"), True),
        (CodeShape("mixed", 8, "AB"), CodeShape("mixed", 8, "AC"), False),
        (CodeShape("mixed", 10), CodeShape("mixed", 10), False),
    ],
)
def test_shapes_that_could_spell_the_same_code_overlap(first: CodeShape, second: CodeShape, clash: bool) -> None:
    assert overlaps(first, second) is clash
