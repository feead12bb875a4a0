"""Pure rules: no I/O, no boto3 or stripe. Everything here takes the clock as an argument."""
