"""The services: order, warehouse, factory and delivery, plus analytics, which only reads events — each laid out the same way."""
