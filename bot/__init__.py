"""shop-assist: shop records, policies and process runner for the Rasa bot."""
