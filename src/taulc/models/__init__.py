"""taulc.models."""
