"""HTTP layer: Chalice blueprints that parse, call one service, and map errors."""
