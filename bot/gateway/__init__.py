"""Web gateway between shoppers (widget), agents (console) and Rasa."""
