"""Custom actions for shop-assist (rasa-sdk action server)."""
