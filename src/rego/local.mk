# Filled in by the owner of src/rego.
