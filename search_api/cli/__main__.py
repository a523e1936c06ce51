"""`python -m search_api.cli` runs the `codecite` command line."""

from search_api.cli import main

main()
