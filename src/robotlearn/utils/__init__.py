"""Small utilities shared by recording and the command-line tools."""
