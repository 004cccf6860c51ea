import argparse
from dataclasses import dataclass

import pytest

from tools.options import add_options, option, read_options


@dataclass(frozen=True)
class Settings:
    rounds: int = option(3, "how many rounds")
    pause_seconds: float = option(1.5, "between rounds", flag="--pause")
    label: str = "fixed"


def parsed(argv: list[str], **others) -> Settings:
    parser = argparse.ArgumentParser()
    add_options(parser, Settings)
    return read_options(parser.parse_args(argv), Settings, **others)


def test_defaults_come_from_the_fields():
    assert parsed([]) == Settings()


def test_flags_take_the_field_type_and_the_named_flag():
    assert parsed(["--rounds", "7", "--pause", "0.25"], label="given") == Settings(7, 0.25, "given")


def test_a_field_without_option_is_no_flag():
    with pytest.raises(SystemExit):
        parsed(["--label", "x"])


def test_a_value_of_the_wrong_type_is_refused():
    with pytest.raises(SystemExit):
        parsed(["--rounds", "many"])
