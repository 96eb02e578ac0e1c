"""Command-line flags generated from the config dataclasses: one place for every default and check."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

KINDS = {"int": (int, "an integer"), "float": (float, "a number"), "str": (str, "a string")}


def flag_names(field: dataclasses.Field) -> list[str]:
    """--multi-word and --multi_word for a field (or the flag its metadata names)."""
    if field.metadata.get("flag"):
        return [field.metadata["flag"]]
    names = [f"--{field.name.replace('_', '-')}"]
    return names + [f"--{field.name}"] if "_" in field.name else names


def value_parser(config_class: type, name: str, kind: str, needs: dict | None = None):
    """An argparse type: parse the text, then let the dataclass itself check the value.

    needs: the other fields this one is checked together with (their values that allow it).
    """
    convert, what = KINDS[kind]

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if kind == "float":
            value += 0.0  # -0.0 is 0.0: `--betas 0 -0` is one model
        if kind == "str" and not value.strip():
            raise argparse.ArgumentTypeError("must not be empty")
        try:
            config_class(**{**(needs or {}), name: value})  # every other field keeps its (valid) default
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
        return value

    parse.__name__ = kind  # argparse names the type in some messages
    return parse


def add_config_options(
    parser: argparse.ArgumentParser, config_class: type, skip: tuple[str, ...] = (), defaults: bool = True
) -> None:
    """One flag per documented field of config_class, with its default, choices and checks.

    defaults=False leaves an unused flag out of the parsed namespace: which flags the user typed.
    """
    for field in dataclasses.fields(config_class):
        if "help" not in field.metadata or field.name in skip:
            continue
        kind = str(field.type).split("|")[0].strip()
        default = field.default
        shown = "" if default in (None, False) or "default" in field.metadata["help"] else f" (default {default})"
        options: dict[str, Any] = {"dest": field.name, "default": default if defaults else argparse.SUPPRESS,
                                   "help": field.metadata["help"] + shown}
        if kind == "bool":
            options["action"] = "store_true"
        else:
            options["type"] = value_parser(config_class, field.name, kind, field.metadata.get("needs"))
            if field.metadata.get("choices"):
                options["choices"] = field.metadata["choices"]
                options["type"] = str
        parser.add_argument(*flag_names(field), **options)


def config_values(args: argparse.Namespace, config_class: type, **overrides: Any) -> dict[str, Any]:
    """The fields of config_class that the parsed arguments carry, with overrides."""
    names = {field.name for field in dataclasses.fields(config_class)}
    return {**{k: v for k, v in vars(args).items() if k in names}, **overrides}
