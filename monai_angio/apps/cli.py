"""The ``monai-angio`` command line.

Sub-commands live in their own modules, each exposing ``register(subparsers)`` that adds an
``argparse`` sub-parser and sets ``func`` (a callable taking the parsed namespace and returning an
exit status):

- ``synth``   (:mod:`monai_angio.apps.synth`): write synthetic angiogram phantoms + datalist.
- ``qca``     (:mod:`monai_angio.apps.qca`): catheter-calibrated stenosis measurement.
- ``segment`` (:mod:`monai_angio.apps.segment`): run a bundle on angiograms.
- ``train``   (:mod:`monai_angio.apps.train`): train a bundle on a datalist.
- ``demo``    (:mod:`monai_angio.apps.demo`): the whole pipeline on a generated sample cine.
- ``evaluate`` (:mod:`monai_angio.apps.evaluate`): score a bundle on images with expert vessel masks.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

from monai_angio import __version__

__all__ = ["build_parser", "main", "join_dash_values", "SUBCOMMAND_MODULES", "DASH_VALUE_OPTIONS"]

SUBCOMMAND_MODULES = ("demo", "synth", "qca", "segment", "train", "evaluate")

#: options whose value may be written with a leading "-" (``--catheter -6F``, ``--start -5,10``): argparse would
#: take such a value for an option and answer "expected one argument"; joined as ``--opt=value`` the sub-command's
#: own check explains what is wrong with the value
DASH_VALUE_OPTIONS = ("--catheter", "--start", "--end", "--mm-per-px")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="monai-angio", description="X-ray coronary angiography: segmentation, QCA and synthetic phantoms."
    )
    parser.add_argument("--version", action="version", version=f"monai-angio {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        module = importlib.import_module(f"monai_angio.apps.{name}")
        module.register(subparsers)
    return parser


def join_dash_values(argv: Sequence[str], options: Sequence[str] = DASH_VALUE_OPTIONS) -> list:
    """``[..., "--catheter", "-6F", ...]`` -> ``[..., "--catheter=-6F", ...]`` for the ``options`` listed."""
    out: list = []
    i = 0
    argv = list(argv)
    while i < len(argv):
        a = argv[i]
        if a in options and i + 1 < len(argv) and argv[i + 1].startswith("-") and argv[i + 1] not in ("-", "--"):
            nxt = argv[i + 1]
            if not nxt.startswith("--"):
                out.append(f"{a}={nxt}")
                i += 2
                continue
        out.append(a)
        i += 1
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(join_dash_values(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
