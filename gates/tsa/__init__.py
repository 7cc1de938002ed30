"""RFC 3161 timestamps: tokens from a timestamp authority, checked offline against its chain."""
