"""teleoperators."""
