# The runtime specification and the inventory (filled in by their owner).
