"""taulc.dynamics."""
