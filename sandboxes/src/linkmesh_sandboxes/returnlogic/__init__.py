"""ReturnLogic sandbox: RMAs and orders by customer email, with ReturnLogic's per-key rate limits."""
