"""Analytics service: consumes every event topic and serves fulfilment figures (JSON, Prometheus, a web page)."""
