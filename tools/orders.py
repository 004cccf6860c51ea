"""The Order API as the tools use it: which statuses are final, and an address for orders they place."""

FINAL = frozenset({"COMPLETED", "CANCELLED", "DELIVERY_FAILED"})
SAMPLE_ADDRESS = {"name": "Sample Customer", "street": "1 Sample Street", "city": "Zurich", "postal_code": "8001",
                  "country": "CH"}
