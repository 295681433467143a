"""VLA policy: a small vision-language-action model trained from scratch (SmolVLA's design)."""
