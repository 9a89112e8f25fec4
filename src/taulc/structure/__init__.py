"""taulc.structure."""
