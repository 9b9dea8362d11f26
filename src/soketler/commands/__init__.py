"""Argument definitions of the subcommands; each module imports only argparse."""
