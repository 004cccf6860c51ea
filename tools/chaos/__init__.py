"""`make chaos`: a soak on the real stack with crashes — orders placed and cancelled at a steady rate while
every component is SIGKILLed in turn and started again by the launcher — then a check that no order was
lost, doubled or stranded and no stock went astray (plan, customers, faults, verdict, soak)."""
