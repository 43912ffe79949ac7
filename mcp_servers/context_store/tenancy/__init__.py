"""Many users in one context-store process: each HTTP request's bearer token picks its tenant.

`registry` reads the tenants file (a token's SHA-256 and, optionally, the tenant's own database
role); `router` is the ASGI app that routes each request to the tenant's own MCP server, opened on
first use; `admin` is `pepper-context-admin`, which adds and removes tenants (schema, role, token)
and copies a SQLite store into PostgreSQL. See the README's "Tenants" section.
"""

from .registry import Tenant, TenantRegistry, TenantsFileError

__all__ = ["Tenant", "TenantRegistry", "TenantsFileError"]
