"""`python -m gankit.cli`: the same as the `gankit` command."""

import sys

from gankit.cli import main

sys.exit(main())
