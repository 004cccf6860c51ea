"""The services: order, warehouse, factory, delivery, and analytics (which only reads events); all laid out alike."""
