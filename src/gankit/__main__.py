"""`python -m gankit`: the same as the `gankit` command (and what `gankit sweep` launches per seed)."""

import sys

from gankit.cli import main

sys.exit(main())
