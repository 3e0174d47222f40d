"""Centres as scanner profiles: field strength, contrast, noise, bias, resolution, vendor scale, patient mix."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class StackProtocol:
    """One T2 stack: slice thickness and gap, in-plane pixel and field of view, all in mm."""

    slices: int  # sagittal: number of slices; axial: ignored (coverage decides)
    thickness_mm: float
    gap_mm: float
    pixel_mm: float
    fov_mm: float


@dataclass(frozen=True)
class CentreProfile:
    name: str
    region: str
    field_t: float
    tr_ms: float
    te_ms: float
    snr: float  # mean tissue signal / noise sigma, before Rician rectification
    bias: float  # amplitude of the smooth multiplicative bias field (log scale)
    ghost: float  # relative amplitude of motion ghosts along the phase-encode axis
    vendor_scale: float  # stored intensity of a CSF-like signal of 1
    sagittal: StackProtocol
    axial: StackProtocol
    axial_levels: tuple[str, str]  # first and last disc the axial stack covers
    age_mean: float
    age_sd: float
    axial_tilt: bool = False  # axial stack angled to the mean plane of the discs it covers


CENTRES = {
    "C1": CentreProfile("C1", "lumbar", 3.0, 3500, 95, 26.0, 0.5, 0.015, 2200.0,
                        StackProtocol(15, 3.0, 0.3, 0.6, 280), StackProtocol(0, 4.0, 0.0, 0.65, 180),
                        ("L3/L4", "L5/S1"), 50.0, 14.0),
    "C2": CentreProfile("C2", "lumbar", 1.5, 2800, 85, 14.0, 0.7, 0.04, 700.0,
                        StackProtocol(13, 4.0, 0.4, 0.8, 300), StackProtocol(0, 4.0, 0.0, 0.8, 200),
                        ("L3/L4", "L5/S1"), 58.0, 13.0),
    "C3": CentreProfile("C3", "lumbar", 3.0, 4500, 120, 48.0, 0.4, 0.025, 9000.0,
                        StackProtocol(14, 3.5, 0.5, 0.55, 270), StackProtocol(0, 3.5, 0.0, 0.6, 170),
                        ("L2/L3", "L5/S1"), 45.0, 14.0, axial_tilt=True),
    "C4": CentreProfile("C4", "cervical", 3.0, 3000, 90, 24.0, 0.4, 0.02, 1800.0,
                        StackProtocol(15, 3.0, 0.3, 0.55, 240), StackProtocol(0, 3.0, 0.0, 0.6, 200),
                        ("C3/C4", "C6/C7"), 52.0, 13.0, axial_tilt=True),
    # C5: a lumbar centre unlike C1-C3 in every scanner setting (low field, long TE, low SNR, strong bias and ghosts,
    # thick slices, coarse pixels, another vendor scale, older patients); it is never trained on or tuned with
    "C5": CentreProfile("C5", "lumbar", 1.0, 2400, 110, 11.0, 0.9, 0.06, 400.0,
                        StackProtocol(11, 4.5, 0.9, 0.95, 320), StackProtocol(0, 5.0, 0.5, 0.9, 220),
                        ("L4/L5", "L5/S1"), 63.0, 11.0, axial_tilt=True),
}


def coarsened(profile: CentreProfile, min_pixel_mm: float, max_slices: int | None = None) -> CentreProfile:
    """The profile with in-plane pixels no finer than `min_pixel_mm` (and at most `max_slices` sagittal slices)."""
    sag, ax = profile.sagittal, profile.axial
    sag = replace(sag, pixel_mm=max(sag.pixel_mm, min_pixel_mm),
                  slices=min(sag.slices, max_slices) if max_slices else sag.slices)
    ax = replace(ax, pixel_mm=max(ax.pixel_mm, min_pixel_mm))
    return replace(profile, sagittal=sag, axial=ax)
