"""Code every service shares: the published contracts between them and the runtime plumbing under them."""
