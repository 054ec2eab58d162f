"""Issued documents: the [document] table, sandboxed PDF rendering, signing, the file store."""
