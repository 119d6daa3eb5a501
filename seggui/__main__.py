"""`python -m seggui` runs the same entry point as the `seggui` script."""

from seggui.cli import main

raise SystemExit(main())
