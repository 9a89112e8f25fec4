"""taulc.predict."""
