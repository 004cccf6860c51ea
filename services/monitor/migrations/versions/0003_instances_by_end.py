"""Instances indexed by when they ended: the retention removes the longest ended, a batch at a time."""
from shared.runtime.migrations import create_index_concurrently, drop_index_concurrently

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    create_index_concurrently("instances_by_end", "instances", ["ended_at"])


def downgrade() -> None:
    drop_index_concurrently("instances_by_end", "instances")
