"""`python -m mediagrid.reference.services.config --orchestrator HOST:PORT --config FILE`."""

import sys

from mediagrid.reference.services.config.command import main

sys.exit(main())
