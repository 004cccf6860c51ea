"""Order service: takes orders over HTTP, starts their fulfilment process, keeps their status."""
