"""Activities: everything that touches the world outside the workflow."""
