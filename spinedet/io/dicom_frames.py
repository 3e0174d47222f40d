"""Enhanced (multi-frame) MR images: one classic-style header per frame, from the shared and per-frame groups."""

from __future__ import annotations

from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

FRAME_INDEX = "spinedet_frame"  # attribute (not a DICOM element) holding a frame header's 0-based frame number
_SKIPPED = {"SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence", "NumberOfFrames"}
# (functional group macro, attribute inside it, classic keyword the frame header gets)
_GROUP_FIELDS = (
    ("PlanePositionSequence", "ImagePositionPatient", "ImagePositionPatient"),
    ("PlaneOrientationSequence", "ImageOrientationPatient", "ImageOrientationPatient"),
    ("PixelMeasuresSequence", "PixelSpacing", "PixelSpacing"),
    ("PixelMeasuresSequence", "SliceThickness", "SliceThickness"),
    ("PixelValueTransformationSequence", "RescaleSlope", "RescaleSlope"),
    ("PixelValueTransformationSequence", "RescaleIntercept", "RescaleIntercept"),
    ("MREchoSequence", "EffectiveEchoTime", "EchoTime"),
    ("MRTimingAndRelatedParametersSequence", "RepetitionTime", "RepetitionTime"),
)


def is_enhanced(ds) -> bool:
    """True for a multi-frame image that describes its frames in functional groups (Enhanced MR and similar)."""
    return int(ds.get("NumberOfFrames", 1) or 1) > 1 and "PerFrameFunctionalGroupsSequence" in ds


def _keyword(tag) -> str:
    return keyword_for_tag(tag) or ""


def _group_value(groups: list[Dataset], macro: str, attribute: str):
    for group in groups:
        items = group.get(macro)
        if items and attribute in items[0]:
            return items[0][attribute].value
    return None


def frame_headers(ds) -> list[Dataset]:
    """Headers of the frames of an enhanced image, each with classic position, orientation, spacing and rescale.

    Per-frame groups take precedence over shared ones. When frames differ in echo time, EchoNumbers (1-based
    rank of the echo time) is set so that each echo becomes its own stack.
    """
    shared = list(ds.get("SharedFunctionalGroupsSequence") or [])
    per_frame = list(ds.PerFrameFunctionalGroupsSequence)
    kept = [tag for tag in ds.keys() if ds.get_item(tag) is not None and _keyword(tag) not in _SKIPPED]
    headers = []
    for index, frame_groups in enumerate(per_frame):
        header = Dataset()
        for tag in kept:
            header[tag] = ds.get_item(tag)  # raw elements: deferred pixel data stays unread
        for macro, attribute, keyword in _GROUP_FIELDS:
            value = _group_value([frame_groups, *shared], macro, attribute)
            if value is not None:
                setattr(header, keyword, value)
        setattr(header, FRAME_INDEX, index)
        headers.append(header)
    echo_times = sorted({float(h.EchoTime) for h in headers if "EchoTime" in h})
    if len(echo_times) > 1:
        for header in headers:
            if "EchoTime" in header:
                header.EchoNumbers = echo_times.index(float(header.EchoTime)) + 1
    return headers
