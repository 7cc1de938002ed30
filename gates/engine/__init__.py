"""The gate engine: plan and evaluate gates, and the actions that write the ledger."""
