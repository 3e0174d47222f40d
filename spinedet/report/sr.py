"""sr.dcm: a patient's findings as a TID 1500 Measurement Report in a Comprehensive 3D SR (highdicom).

A TID 1501 group first, the summary of detections (with or without findings), then one TID 1411 volumetric
measurement group per finding and view: tracking identifier (a finding seen in both views has one Tracking UID in
both groups), finding type and site (report/sr_codes.py), the model's probability, the grade and its probability
where the model grades the finding, and the 3D box as a Volume Surface of six closed SCOORD3D polygons (its faces)
in the frame of reference of the source series, referencing the source slices the box crosses. The SR joins the
source study (StudyInstanceUID kept) and carries of the patient only the four attributes the Patient module requires
(name, ID, birth date, sex), as the source had them; docs/outputs.md explains the choice.
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from spinedet.atomic import atomic_path
from spinedet.infer.findings import NOTICE
from spinedet.io import geometry
from spinedet.report import sr_codes

SR_SERIES_NUMBER = 9900
# What the SR copies from a source header: references, and the Patient/Study module attributes of type 1 and 2.
KEPT_HEADER = ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID",
               "Modality", "SpecificCharacterSet", "Rows", "Columns", "SamplesPerPixel", "NumberOfFrames")
PATIENT_AND_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                     "AccessionNumber", "StudyID", "ReferringPhysicianName")


class SRUnavailable(Exception):
    """Why a patient's findings cannot go into a DICOM SR (a non-DICOM scan, a series without frame of reference)."""


def box_faces(box_lps) -> list[np.ndarray]:
    """The six faces of an LPS corner box, each a closed polygon of 5 points (mm)."""
    lo, hi = np.asarray(box_lps[:3], float), np.asarray(box_lps[3:], float)
    faces = []
    for axis in range(3):
        u, v = [a for a in range(3) if a != axis]
        for side in (lo[axis], hi[axis]):
            corners = []
            for du, dv in ((0, 0), (1, 0), (1, 1), (0, 1), (0, 0)):
                point = lo.copy()
                point[axis], point[u], point[v] = side, (lo[u], hi[u])[du], (lo[v], hi[v])[dv]
                corners.append(point)
            faces.append(np.array(corners))
    return faces


def faces_box(faces: list[np.ndarray]) -> list[float]:
    """The LPS corner box [x0, y0, z0, x1, y1, z1] bounding polygons (the inverse of box_faces)."""
    points = np.concatenate([np.asarray(f, float) for f in faces])
    return [float(v) for v in np.concatenate([points.min(0), points.max(0)])]


def _evidence(series) -> dict[Path, Dataset]:
    """Per file, a header reduced to its references and the required patient and study attributes."""
    reduced = {}
    for path in dict.fromkeys(series.files):  # an enhanced file holds many slices
        header = pydicom.dcmread(path, stop_before_pixels=True)
        ds = Dataset()
        for keyword in KEPT_HEADER:
            if keyword in header:
                setattr(ds, keyword, header.data_element(keyword).value)
        for keyword in PATIENT_AND_STUDY:
            setattr(ds, keyword, header.get(keyword, "") or "")
        reduced[path] = ds
    return reduced


def _crossed(series, box_lps, evidence: dict[Path, Dataset]) -> list[Dataset]:
    """The evidence headers of the slices whose voxels the box overlaps along the series' slice axis."""
    k = geometry.world_to_voxel(geometry.box_corners(np.asarray(box_lps, float)), series.affine)[:, 0]
    low, high = int(np.ceil(k.min() - 0.5)), int(np.floor(k.max() + 0.5))
    low, high = min(max(low, 0), len(series.files) - 1), max(min(high, len(series.files) - 1), 0)
    files = dict.fromkeys(series.files[i] for i in range(min(low, high), max(low, high) + 1))
    return [evidence[path] for path in files]


def _group(finding: dict, view: str, tracking_uid: str, source, evidence,
           algorithm) -> hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations:
    """The TID 1411 group of one finding as one view saw it."""
    seen = finding[view]
    frame_of_reference = source.series.header.get("FrameOfReferenceUID")
    if not frame_of_reference:
        raise SRUnavailable(f"series {source.series.key} has no FrameOfReferenceUID")
    surface = hd.sr.VolumeSurface(
        graphic_type=hd.sr.GraphicTypeValues3D.POLYGON, graphic_data=box_faces(seen["box_lps"]),
        frame_of_reference_uid=frame_of_reference,
        source_images=[hd.sr.SourceImageForSegmentation.from_source_image(ds)
                       for ds in _crossed(source.series, seen["box_lps"], evidence)])
    name = f"{finding['level'] or 'no level'} {finding['class']} ({view}; seen in {' and '.join(finding['views'])})"
    return hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=tracking_uid, identifier=name),
        referenced_volume_surface=surface,
        finding_type=sr_codes.finding_type(finding["class"]),
        finding_sites=[hd.sr.FindingSite(sr_codes.level_site(finding["level"]))] if finding["level"] else None,
        algorithm_id=algorithm,
        measurements=[hd.sr.Measurement(name=codes.DCM.Probability, value=float(seen["score"]),
                                        unit=codes.UCUM.NoUnits), *_grade_probability(seen)],
        qualitative_evaluations=_grade(finding["class"], seen),
    )


def _grade(cls: str, seen: dict) -> list[hd.sr.QualitativeEvaluation] | None:
    """The grade this view gave the finding, where it grades it (report/sr_codes.py)."""
    if "grade" not in seen:
        return None
    name, value = sr_codes.grade_evaluation(cls, seen["grade"])
    return [hd.sr.QualitativeEvaluation(name=name, value=value)]


def _grade_probability(seen: dict) -> list[hd.sr.Measurement]:
    """The model's probability of that grade, where it grades the finding."""
    if "grade_probability" not in seen:
        return []
    return [hd.sr.Measurement(name=sr_codes.GRADE_PROBABILITY, value=float(seen["grade_probability"]),
                              unit=codes.UCUM.NoUnits)]


def _summary(found: bool) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    """A TID 1501 group saying whether anything was found (TID 1500 needs a group even when nothing was)."""
    value = codes.DCM.AllAlgorithmsSucceededWithFindings if found else codes.DCM.AllAlgorithmsSucceededWithoutFindings
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier="spinedet summary"),
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(name=codes.DCM.SummaryOfDetections, value=value)])


def _private_scheme() -> Dataset:
    item = Dataset()
    item.CodingSchemeDesignator = sr_codes.PRIVATE_SCHEME
    item.CodingSchemeName = sr_codes.PRIVATE_SCHEME_NAME
    item.CodingSchemeResponsibleOrganization = "spinedet project"
    return item


def build_sr(entry: dict, sources: dict, models: list[dict], version: str) -> Dataset:
    """The Comprehensive 3D SR of one patient entry of findings.json; `sources` maps scan id to its Source."""
    scans = [scan_id for ids in entry["scans"].values() for scan_id in ids]
    missing = [scan_id for scan_id in scans if sources[scan_id].series is None]
    if missing:
        raise SRUnavailable(f"scan {missing[0]} is not a DICOM series")
    evidence = {scan_id: _evidence(sources[scan_id].series) for scan_id in scans}
    algorithms = {view: hd.sr.AlgorithmIdentification(
        name="spinedet", version=version,
        parameters=[f"model {Path(m['run']).name} ({m['region']} {m['view']}, spinedet {m.get('model_version')}), "
                    f"operating threshold {m['operating_threshold']:.3f}" for m in models if m["view"] == view])
        for view in entry["scans"]}
    findings = [f for level in entry["levels"] for f in level["findings"]] + entry["unlevelled_findings"]
    groups = [_summary(bool(findings))]
    for finding in findings:
        tracking_uid = generate_uid()
        for view in finding["views"]:
            scan_id = finding[view]["scan"]
            groups.append(_group(finding, view, tracking_uid, sources[scan_id], evidence[scan_id], algorithms[view]))
    device = hd.sr.DeviceObserverIdentifyingAttributes(
        uid=generate_uid(entropy_srcs=["spinedet", version]), name="spinedet", manufacturer_name="spinedet",
        model_name=f"spinedet {version} (research software, not a medical device)")
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=hd.sr.ObserverContext(
            observer_type=codes.cid270.Device, observer_identifying_attributes=device)),
        procedure_reported=codes.SCT.ImagingProcedure, imaging_measurements=groups)
    sr = hd.sr.Comprehensive3DSR(
        evidence=[ds for by_file in evidence.values() for ds in by_file.values()], content=report[0],
        series_instance_uid=generate_uid(), series_number=SR_SERIES_NUMBER, sop_instance_uid=generate_uid(),
        instance_number=1, manufacturer="spinedet", is_complete=True,
        series_description=f"spinedet findings ({NOTICE[:-1].lower()})"[:64])
    sr.CodingSchemeIdentificationSequence = [_private_scheme()]
    return sr


def write_sr(path: Path, sr: Dataset) -> None:
    """Write the SR atomically as a DICOM Part 10 file."""
    with atomic_path(path) as tmp:
        sr.save_as(tmp, enforce_file_format=True)
