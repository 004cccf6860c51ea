"""The realm roles a caller's token carries (tools/stack/keycloak-realm.json) and the services' routes allow."""

CUSTOMER = "customer"
"""Places orders; reads and cancels only their own."""
OPERATOR = "operator"
"""Stock, the production line, deliveries, figures, any order, incidents and user tasks."""
SERVICE = "service"
"""Calls between services: the Delivery service reading a shipping address."""
