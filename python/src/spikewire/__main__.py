"""`python -m spikewire`: the command line (see spikewire.cli)."""

import sys

from spikewire.cli import main

sys.exit(main(sys.argv[1:]))
