"""``python -m tools.loss_study [--readme]``: the loss study's table (``segdemo.networks.loss_study``),
printed, and with ``--readme`` written into the README between its markers."""
import argparse
import sys
from pathlib import Path

from segdemo.networks.loss_study import STUDY_ROOT, markdown, read_runs
from tools.report import write_into_readme

README_START, README_END = "<!-- loss-study:start -->", "<!-- loss-study:end -->"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.loss_study", description=__doc__)
    parser.add_argument("--root", type=Path, default=STUDY_ROOT, help="the study's folder (default: studies/losses)")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args(argv)
    table = markdown(read_runs(args.root))
    print(table)
    if args.readme:
        write_into_readme(table, README_START, README_END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
