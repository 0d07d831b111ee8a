"""`python -m bridges` runs the command line."""

import sys

from bridges.cli import main

sys.exit(main())
