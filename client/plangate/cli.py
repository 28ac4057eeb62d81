"""The `plangate` command (being built: see the agent gate issue)."""

import sys


def main(argv=None) -> int:
    print("plangate: not built yet", file=sys.stderr)
    return 1
