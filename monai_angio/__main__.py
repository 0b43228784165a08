"""``python -m monai_angio`` runs the command line."""

import sys

from monai_angio.apps.cli import main

sys.exit(main())
