"""Process monitor: the engine's records projected into tables; definitions, instances, incidents and user tasks
over HTTP and on a page with the BPMN diagram (the local stand-in for Camunda Operate and Tasklist)."""
