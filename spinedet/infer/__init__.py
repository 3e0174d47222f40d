"""Inference: predictor, postprocessing (NMS, levels), findings outputs and overlays."""
