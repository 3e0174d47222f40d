"""The `spinedet` command line: one subcommand per pipeline stage."""

from __future__ import annotations

import argparse
import importlib
import sys

from spinedet import __version__
from spinedet.errors import SpinedetError

# Each module defines register(subparsers), adding its subcommand with set_defaults(func=...).
COMMAND_MODULES = (
    "spinedet.commands.inspect",
    "spinedet.commands.validate",
    "spinedet.commands.detect",
    "spinedet.commands.import_",
    "spinedet.commands.synth",
    "spinedet.commands.preview",
    "spinedet.commands.train",
    "spinedet.commands.study",
    "spinedet.commands.evaluate",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spinedet",
        description="Detection of degenerative lumbar and cervical spine disease on T2-weighted MRI. "
        "Research software, not a medical device.",
    )
    parser.add_argument("--version", action="version", version=f"spinedet {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SpinedetError as exc:
        print(f"spinedet {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spinedet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
