"""`python -m etl …`: see etl/cli.py."""

from etl.cli import main

raise SystemExit(main())
