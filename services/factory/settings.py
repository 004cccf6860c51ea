"""Factory service settings (FULFIL_FACTORY_* environment variables)."""
from shared.contracts.registry import FACTORY
from shared.runtime.settings import ServiceSettings


class FactorySettings(ServiceSettings, service=FACTORY):
    # How long producing a replenishment request takes.
    production_seconds: float = 2.0
    production_poll_seconds: float = 0.5
