"""ACT policy."""
