"""spinedet: detection of degenerative spine disease on T2-weighted MRI (research software)."""
__version__ = "0.1.0"
