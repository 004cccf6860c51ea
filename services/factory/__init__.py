"""Factory service: takes replenishment requests and produces stock (production arrives with the full process)."""
