"""Pure rules: no I/O and no clock reads (time is passed in)."""
