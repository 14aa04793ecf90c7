"""The Gladly Lookup Adaptor protocol as linkmesh's served adaptors speak it over HTTP: the
JSON of answers and forms (``answers``) and the status of each failure (``failures``)."""
