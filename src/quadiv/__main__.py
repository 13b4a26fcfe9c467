"""`python -m quadiv` runs the command line."""
from quadiv.cli import main

main()
