"""Tools around segdemo, not part of the installed package: benchmarks, the classroom load
test, the browser harness, the README tables and the screenshots.  Run from the project
folder (``python -m tools.bench``); a Space never installs or imports them."""
