"""Reads of the usage app, one module per use case: the active-customer rule (active_customers), usage
against the plan (plan) and the Overview's figures (overview)."""
