"""Personal data protection (UU 27/2022): encryption at rest, access records, retention, data subjects' rights."""
