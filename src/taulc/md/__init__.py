"""taulc.md."""
