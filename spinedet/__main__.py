import sys

from spinedet.cli import main

sys.exit(main())
