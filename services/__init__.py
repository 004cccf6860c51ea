"""The four services: order, warehouse, factory, delivery — each laid out the same way."""
