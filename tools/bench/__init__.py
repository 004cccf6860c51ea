"""`make bench`: what the suite completes against what the engine completes of the same BPMN (see run.py)."""
