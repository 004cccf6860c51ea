"""A unit of work that lost a race on a unique key runs once more, and only once."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from shared.runtime.db import again_if_raced


def raced(times: int):
    runs = []

    def work() -> str:
        runs.append(len(runs) + 1)
        if len(runs) <= times:
            raise IntegrityError("INSERT ...", {}, Exception("duplicate key value violates unique constraint"))
        return f"found on run {len(runs)}"
    return work, runs


def test_the_loser_of_a_race_finds_what_the_winner_wrote_on_its_second_run():
    work, runs = raced(times=1)
    assert again_if_raced(work) == "found on run 2"
    assert runs == [1, 2]


def test_a_second_conflict_is_not_a_race_and_is_raised():
    work, runs = raced(times=2)
    with pytest.raises(IntegrityError):
        again_if_raced(work)
    assert runs == [1, 2]


def test_other_errors_are_not_retried():
    runs = []

    def work():
        runs.append(1)
        raise ValueError("invalid order")
    with pytest.raises(ValueError):
        again_if_raced(work)
    assert runs == [1]
