"""Importers that read public lumbar MRI collections, as published, into a spinedet dataset.json."""
