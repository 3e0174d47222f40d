"""Coded concepts of the DICOM SR: finding types (classes) and finding sites (levels); docs/outputs.md lists them.

Levels are the SNOMED CT intervertebral disc concepts of pydicom's DICOM PS3.16 code dictionary, which name a
disc by the vertebra above it ("Intervertebral disc structure of fourth lumbar vertebra" is the L4/L5 disc).
Herniation, degenerated disc and stenosis are SNOMED CT disorders that PS3.16 does not list; their codes were
checked against public SNOMED CT code listings, not an official release. Bulge, and the C2/C3 disc (absent from
the dictionary), use the private scheme 99SPINEDET.

Grades (spinedet.data.grades) are a qualitative evaluation per finding: stenosis as (Severity, SCT) = the SNOMED CT
qualifiers Mild / Moderate / Severe of PS3.16; Pfirrmann grades and herniation morphology (protrusion, extrusion)
have no code there and use the private scheme.
"""

from __future__ import annotations

from highdicom.sr import CodedConcept
from pydicom.sr.codedict import codes

PRIVATE_SCHEME = "99SPINEDET"
PRIVATE_SCHEME_NAME = "spinedet classes and levels without a standard code"

FINDING_TYPES = {
    "herniation": CodedConcept("73589001", "SCT", "Herniation of intervertebral disc"),
    "bulge": CodedConcept("bulge", PRIVATE_SCHEME, "Bulging intervertebral disc"),
    "degenerated_disc": CodedConcept("77547008", "SCT", "Degeneration of intervertebral disc"),
    "stenosis": CodedConcept("76107001", "SCT", "Spinal stenosis"),
}
_ORDINALS = ("First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth",
             "Eleventh", "Twelfth")
_REGIONS = {"C": "Cervical", "T": "Thoracic", "L": "Lumbar"}


SEVERITY = CodedConcept(codes.SCT.Severity.value, "SCT", "Severity")
SEVERITIES = {name: CodedConcept(getattr(codes.SCT, name.title()).value, "SCT", name.title())
              for name in ("mild", "moderate", "severe")}
GRADE_PROBABILITY = CodedConcept("grade-prob", PRIVATE_SCHEME, "Probability of the grade")
PRIVATE_SCALES = {  # class -> (name, {grade: value}) in the private scheme
    "degenerated_disc": (CodedConcept("pfirrmann", PRIVATE_SCHEME, "Pfirrmann grade"),
                         {g: CodedConcept(f"pfirrmann-{g}", PRIVATE_SCHEME, f"Pfirrmann grade {g}")
                          for g in ("III", "IV", "V")}),
    "herniation": (CodedConcept("hern-morph", PRIVATE_SCHEME, "Herniation morphology"),
                   {g: CodedConcept(f"hern-{g}", PRIVATE_SCHEME, g.title()) for g in ("protrusion", "extrusion")}),
}


def grade_evaluation(cls: str, grade: str) -> tuple[CodedConcept, CodedConcept]:
    """The (name, value) concepts of a finding's grade: (Severity, Severe) for stenosis, private codes for the
    Pfirrmann grade of a degenerated disc and the morphology of a herniation."""
    if grade in SEVERITIES:
        return SEVERITY, SEVERITIES[grade]
    name, values = PRIVATE_SCALES[cls]
    return name, values[grade]


def finding_type(cls: str) -> CodedConcept:
    """The coded finding type of a disease class (private code for a class outside FINDING_TYPES)."""
    return FINDING_TYPES.get(cls) or CodedConcept(cls, PRIVATE_SCHEME, cls.replace("_", " "))


def level_site(level: str) -> CodedConcept:
    """The coded finding site of a level such as 'L4/L5': the SNOMED CT disc below the upper vertebra."""
    upper = level.split("/")[0]
    keyword = f"IntervertebralDiscStructureOf{_ORDINALS[int(upper[1:]) - 1]}{_REGIONS[upper[0]]}Vertebra"
    try:
        code = getattr(codes.SCT, keyword)
    except AttributeError:
        return CodedConcept(level.replace("/", "-"), PRIVATE_SCHEME, f"Intervertebral disc {level}")
    return CodedConcept(code.value, code.scheme_designator, code.meaning.removesuffix(" (body structure)"))
