"""Warehouse service settings (FULFIL_WAREHOUSE_* environment variables)."""
from shared.contracts.registry import WAREHOUSE
from shared.runtime.settings import ServiceSettings


class WarehouseSettings(ServiceSettings, service=WAREHOUSE):
    """Nothing of its own beyond the runtime settings."""
