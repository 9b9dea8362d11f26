"""The browser door: an aiohttp application serving the page, `/ws`, `/healthz` and `/metrics`."""
