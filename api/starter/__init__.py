"""The starter library: the seed trees every new tenant gets, and updates to them."""
