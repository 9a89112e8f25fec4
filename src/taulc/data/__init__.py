"""taulc.data."""
