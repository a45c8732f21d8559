"""Platform connectors: one small module per platform, on the contract in base.py."""
