"""Warehouse service: stock per SKU, reservations, pick and pack."""
