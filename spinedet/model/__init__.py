"""The detector: 3D ResNet18 backbone, sine position encoding, transformer encoder-decoder, set matching and losses."""
