#!/usr/bin/env python3
"""aiolab autograder (same as `autograder/grade`): `python3 autograder/grade.py --help`.
See autograder/README.md."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aiograde.cli import main  # noqa: E402

sys.exit(main())
