"""``python -m agent_framework_hosting``: the command line (``dev``)."""

from ._dev import main

raise SystemExit(main())
