"""The published language between the services: what each one promises the others.

`registry` says who is who (name, port, database, topics, CloudEvents source); one module per
service holds the events it publishes, the Zeebe messages it sends and the job types it handles,
with their payload and variable models; `process` holds what the BPMN processes share. Services
import this package and the runtime, never each other. It depends on pydantic alone.
"""
