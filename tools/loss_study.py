"""``python -m tools.loss_study [--readme]``: the loss study's table (``segdemo.networks.loss_study``),
printed, and with ``--readme`` written into the README between its markers."""
import sys
from pathlib import Path

from segdemo.networks.loss_study import STUDY_ROOT, markdown, read_runs
from tools.report import table_command

README_START, README_END = "<!-- loss-study:start -->", "<!-- loss-study:end -->"


def main(argv=None):
    return table_command(argv, "python -m tools.loss_study", __doc__, (README_START, README_END),
                         lambda root: markdown(read_runs(Path(root) if root else STUDY_ROOT)), "--root",
                         "the study's folder (default: studies/losses)")


if __name__ == "__main__":
    sys.exit(main())
