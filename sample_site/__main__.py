"""``python -m sample_site``: serve the sample documentation sites on loopback."""

from __future__ import annotations

import sys

from sample_site.server import main

if __name__ == "__main__":
    sys.exit(main())
