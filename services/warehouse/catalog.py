"""The small catalog the warehouse is seeded with on its first migration."""

CATALOG = [
    {"sku": "KB-101", "name": "Mechanical keyboard", "on_hand": 50},
    {"sku": "MS-202", "name": "Wireless mouse", "on_hand": 80},
    {"sku": "MN-303", "name": "27-inch monitor", "on_hand": 20},
    {"sku": "HS-404", "name": "USB headset", "on_hand": 40},
    {"sku": "DK-505", "name": "Docking station", "on_hand": 15},
]
