"""Writes of the offers app, one module per use case: catalog, access (grants, purchases, revokes),
grant jobs and the member area."""
