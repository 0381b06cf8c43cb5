"""``python -m segdemo.data``: fetch the dataset, check it, record the split, bundle examples."""
import argparse
import sys
import time
from pathlib import Path

from segdemo.data.examples import BUNDLED, export_examples, varied_ids
from segdemo.data.fetch import OFFICIAL_URL, fetch, fetched_root
from segdemo.data.labels import LABEL_SETS
from segdemo.data.split import SPLIT_FILE, load_split, write_split_file
from segdemo.data.stanford import DatasetError, list_ids, load_dataset, resolve_data_root


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m segdemo.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser("fetch", help="download or unpack the official archive")
    get.add_argument("--dest", type=Path, help="folder to unpack into (default: the segdemo cache, where the "
                     "other commands look)")
    get.add_argument("--archive", type=Path, help="a local .tar.gz or an extracted folder")
    get.add_argument("--url", default=OFFICIAL_URL)
    get.add_argument("--sha256", help="refuse an archive whose sha256 differs")
    check = commands.add_parser("check", help="parse every label file and build the caches")
    check.add_argument("--data", help="data folder (default: $SEGDEMO_DATA, then ../shared, then the cache)")
    split = commands.add_parser("split", help=f"record the validation ids in {SPLIT_FILE.name}")
    split.add_argument("--data")
    examples = commands.add_parser("examples", help="bundle validation photos with their truth for the app "
                                    "(chosen to show every class between them)")
    examples.add_argument("--data")
    examples.add_argument("--count", type=int, default=6)
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            fetch(args.dest or fetched_root().parent, archive=args.archive, url=args.url, expected_sha256=args.sha256)
        elif args.command == "check":
            for label_set in LABEL_SETS.values():
                started = time.perf_counter()
                dataset = load_dataset(label_set, args.data)
                print(f"{label_set.name}: {len(dataset)} images in {time.perf_counter() - started:.1f} s")
        elif args.command == "split":
            val = write_split_file(list_ids(resolve_data_root(args.data)))
            print(f"wrote {len(val)} validation ids to {SPLIT_FILE}")
        else:
            regions = load_dataset(LABEL_SETS["regions"], args.data)
            chosen = varied_ids(regions, load_split(regions.ids)[1], args.count)
            for label_set in LABEL_SETS.values():
                export_examples(load_dataset(label_set, args.data), chosen, BUNDLED)
            print(f"bundled {len(chosen)} validation photos with their truth in {BUNDLED}: {', '.join(chosen)}")
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
