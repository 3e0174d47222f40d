"""Classify a DICOM series by weighting (T2, T1, PD, STIR, ...), localiser, fat suppression and region."""

from __future__ import annotations

import re

# Description patterns, tried in order; the first that matches names the weighting.
_DESCRIPTION_WEIGHTING = (
    ("stir", r"stir|tirm|\bt2[ _-]?ir\b"),
    ("flair", r"flair"),
    ("t2star", r"t2\*|t2star|t2_star|medic|merge|\bhemo|\bswi\b|\bgre\b|\bfl2d\b"),
    ("t2", r"(?<![a-z0-9])t2(?![0-9])"),
    ("t1", r"(?<![a-z0-9])t1(?![0-9])"),
    ("pd", r"(?<![a-z0-9])pd(?![a-z0-9])|proton"),
    ("t2", r"\bhaste\b|\bciss\b|\bfiesta\b|myelo"),
)
_LOCALISER = (r"(?<![a-z])loc(?![a-z])|locali[sz]|scout|survey|(?<![a-z])(tri[ _-]?)?pilot|3[ _-]?plane|"
              r"tri[ _-]?plane|\bref\b|mpr_ref")  # whole-word "loc": not "block", "velocity"
_FAT_SUPPRESSED = r"(?<![a-z])fs(?![a-z])|fat[ _-]?sat|spair|\bspir\b|dixon|_w\b|water"
_REGION = (
    ("lumbar", r"lumbar|(?<![a-z])l[ _-]?spine|\blws\b|\blsp|lumb|\bl[ _-]?s\b"),
    ("cervical", r"cervical|(?<![a-z])c[ _-]?spine|\bhws\b|\bcsp|\bneck\b|\bcerv"),
)
_BODY_PART_REGION = {"LSPINE": "lumbar", "CSPINE": "cervical", "LUMBAR": "lumbar", "CERVICAL": "cervical"}


def _text(ds, *keywords: str) -> str:
    return " ".join(str(ds.get(k, "") or "") for k in keywords).lower()


def _strings(ds, keyword: str) -> list[str]:
    value = ds.get(keyword) or []
    return [str(v).upper() for v in ([value] if isinstance(value, str) else value)]


def _float(ds, keyword: str) -> float | None:
    try:
        value = ds.get(keyword)
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _dixon_component(ds) -> str | None:
    """'fat' or 'opposed' for a Dixon fat or opposed-phase image (not a T2 contrast), from ImageType or the name."""
    image_type = set(_strings(ds, "ImageType"))
    if "FAT" in image_type:
        return "fat"
    if image_type & {"OPP_PHASE", "OUT_PHASE"}:
        return "opposed"
    description = _text(ds, "SeriesDescription").strip()
    if re.search(r"dixon|ideal|flex", description):
        suffix = re.search(r"[ _-](f|fat|opp|op|out)$", description)
        if suffix:
            return "fat" if suffix.group(1).startswith("f") else "opposed"
    return None


def weighting_of(ds) -> tuple[str, str]:
    """The weighting (t2, t1, pd, stir, flair, t2star, dixon_fat, dixon_opposed or unknown) and how it was decided."""
    component = _dixon_component(ds)
    if component:
        return f"dixon_{component}", f"Dixon {component} image (ImageType or description suffix)"
    description = _text(ds, "SeriesDescription", "ProtocolName", "SequenceName")
    for name, pattern in _DESCRIPTION_WEIGHTING:
        if re.search(pattern, description):
            return name, f"description/protocol '{description.strip()}'"
    te, tr, ti = _float(ds, "EchoTime"), _float(ds, "RepetitionTime"), _float(ds, "InversionTime")
    sequence = _strings(ds, "ScanningSequence")
    timing = f"TE {te} ms, TR {tr} ms" + (f", TI {ti} ms" if ti else "")
    if "IR" in sequence and ti is not None:
        return ("stir" if ti < 400 else "flair"), f"inversion recovery, {timing}"
    if "GR" in sequence and "SE" not in sequence:
        return "t2star" if (te or 0) > 10 else "t1", f"gradient echo, {timing}"
    if te is None or tr is None:
        return "unknown", "no description match and no echo/repetition time"
    if te >= 60 and tr >= 1500:
        return "t2", f"long TE and TR ({timing})"
    if te <= 30 and tr <= 1000:
        return "t1", f"short TE and TR ({timing})"
    if te <= 40 and tr >= 1500:
        return "pd", f"short TE, long TR ({timing})"
    return "unknown", f"ambiguous timing ({timing})"


def is_localiser(ds) -> bool:
    """True for scouts and localisers (by ImageType or description)."""
    image_type = _strings(ds, "ImageType")
    return "LOCALIZER" in image_type or bool(re.search(_LOCALISER, _text(ds, "SeriesDescription", "ProtocolName")))


def is_fat_suppressed(ds) -> bool:
    """True when the description names fat suppression (FS, fat sat, SPAIR, Dixon water)."""
    return bool(re.search(_FAT_SUPPRESSED, _text(ds, "SeriesDescription", "ProtocolName")))


def region_of(ds) -> tuple[str | None, str]:
    """'lumbar', 'cervical' or None, from BodyPartExamined, else the description; and where it came from."""
    body_part = str(ds.get("BodyPartExamined", "") or "").upper().replace(" ", "").replace("-", "")
    if body_part in _BODY_PART_REGION:
        return _BODY_PART_REGION[body_part], f"BodyPartExamined {body_part}"
    text = _text(ds, "BodyPartExamined", "SeriesDescription", "ProtocolName", "StudyDescription")
    for name, pattern in _REGION:
        if re.search(pattern, text):
            return name, f"description '{text.strip()}'"
    return None, "unknown (no BodyPartExamined or description naming lumbar or cervical)"
