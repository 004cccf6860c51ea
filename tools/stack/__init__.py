"""The local stack launcher: fetches, starts and stops Camunda, Kafka, PostgreSQL and the services."""
