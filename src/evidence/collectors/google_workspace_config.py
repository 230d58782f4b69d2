"""`[google_workspace]`: the Google Workspace collector's configuration section."""

from __future__ import annotations

from evidence.config import Section


class GoogleWorkspaceConfig(Section):
    customer_id: str = "my_customer"
    credentials_file: str
    delegated_admin: str
    api_endpoint: str | None = None
