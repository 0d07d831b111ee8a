"""`python -m a2a_bridges` runs the command line."""

import sys

from a2a_bridges.cli import main

sys.exit(main())
