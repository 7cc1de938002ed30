"""Check kinds, one module each: evidence in, CheckResult out."""
