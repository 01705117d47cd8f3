import sys

from labelspec.cli import main

sys.exit(main())
