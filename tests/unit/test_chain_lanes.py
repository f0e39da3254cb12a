"""Chain lanes: a first attempt stays among a few lanes (a day's digest stays small); a writer that keeps losing
races to other writers at a busy site spreads over more, so it lands in a few attempts instead of exhausting them."""

from __future__ import annotations

import random

from chalicelib.services.chain import LANES, MAX_ATTEMPTS, MAX_LANES, pick_lane


def test_a_first_attempt_takes_one_of_the_first_lanes() -> None:
    random.seed(7)
    assert {pick_lane() for _ in range(2000)} == set(range(LANES))


def test_each_lost_race_doubles_the_lanes_to_choose_from_up_to_the_most() -> None:
    random.seed(7)
    for lost in range(MAX_ATTEMPTS):
        lanes = min(MAX_LANES, LANES * 2**lost)
        assert {pick_lane(lost) for _ in range(40 * lanes)} == set(range(lanes)), lost
