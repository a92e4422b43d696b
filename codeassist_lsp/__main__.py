"""Allow `python -m codeassist_lsp`."""

from __future__ import annotations

from codeassist_lsp.cli import main

raise SystemExit(main())
