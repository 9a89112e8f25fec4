"""taulc.physics."""
