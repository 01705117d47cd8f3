"""``python -m labelspec``: the command line (:func:`labelspec.cli.main`)."""

import gc
import sys

gc.disable()  # while the modules are imported: labelspec.cli.main turns it back on when the command wants it
from labelspec.cli import main  # noqa: E402

sys.exit(main())
