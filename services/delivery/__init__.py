"""Delivery service: takes delivery commands, hands shipments to a (simulated) courier."""
