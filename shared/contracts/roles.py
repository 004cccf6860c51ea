"""The realm roles and groups a caller's token carries (tools/stack/keycloak-realm.json), which routes allow."""

CUSTOMER = "customer"
"""Places orders; reads and cancels only their own."""
OPERATOR = "operator"
"""Stock, the production line, deliveries, figures, any order, incidents and user tasks."""
SERVICE = "service"
"""Calls between services: the Delivery service reading a shipping address."""

# The realm's groups (tokens carry their names in the `groups` claim): the candidate groups of the processes' user
# tasks, whose members may claim, release and complete them.
FULFILMENT_TEAM = "fulfilment-team"
"""Decides what happens to an order past a deadline (DecideLateStock, DecideOverdueDelivery)."""
FULFILMENT_REVIEWERS = "fulfilment-reviewers"
"""Reviews orders (the review user task)."""
TASK_GROUPS = (FULFILMENT_TEAM, FULFILMENT_REVIEWERS)
