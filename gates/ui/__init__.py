"""The live, read-only web UI over the signed ledger (FastAPI); see ``gates.ui.app``."""
