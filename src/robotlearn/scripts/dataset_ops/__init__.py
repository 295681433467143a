"""One module per `robotlearn dataset <operation>`: CONFIG (flags) and main(argv)."""
