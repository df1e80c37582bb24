# Filled in by the owner of src/core.
