"""Serving a photo: the checkpoints the app offers, the fastest way to run each, one photo's
answer, scoring and exporting checkpoints as served, and the server's own needs (memory,
network addresses, the classroom's certificate).  Imports the networks, never the UI."""
