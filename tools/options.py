"""Command-line options that fill a frozen dataclass: a field declared with `option` is a flag, its default and
its help written once, beside the field."""
from __future__ import annotations

import argparse
from dataclasses import field, fields
from typing import Any, TypeVar

T = TypeVar("T")


def option(default: Any, help: str, *, flag: str | None = None) -> Any:
    """A field that `add_options` makes a flag: `--field-name` unless `flag` names it, of its default's type."""
    return field(default=default, metadata={"help": help, "flag": flag})


def add_options(parser: argparse.ArgumentParser, cls: type) -> None:
    for each in fields(cls):
        if "help" in each.metadata:
            flag = each.metadata["flag"] or "--" + each.name.replace("_", "-")
            parser.add_argument(flag, dest=each.name, metavar=flag.lstrip("-").replace("-", "_").upper(),
                                type=type(each.default), default=each.default,
                                help=f"{each.metadata['help']} (default %(default)s)")


def read_options(args: argparse.Namespace, cls: type[T], **others: Any) -> T:
    """The dataclass with every `option` field from the parsed flags and the others as given."""
    return cls(**{each.name: getattr(args, each.name) for each in fields(cls) if "help" in each.metadata}, **others)
