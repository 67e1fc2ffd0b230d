"""``python -m glassnet``: the ``glassnet`` command."""
import sys

from glassnet.cli import main

sys.exit(main())
