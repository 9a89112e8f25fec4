"""taulc.analysis."""
