"""The synthetic multicentre spine MRI generator: anatomy, lesions, scanner profiles, cohorts."""

from spinedet.synth.cohort import PRESETS, generate

__all__ = ["PRESETS", "generate"]
