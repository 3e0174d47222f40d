"""Enhanced (multi-frame) MR files load exactly like the same slices exported as classic single-frame images."""

import json

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import EnhancedMRImageStorage, ExplicitVRLittleEndian, generate_uid

from dicom_fixtures import (PATIENT_BIRTH_DATE, PATIENT_ID, PATIENT_NAME, SAGITTAL_IOP, image_values, tilted,
                            write_series)
from spinedet.cli import main
from spinedet.io.dicom import list_series
from spinedet.io.load import load_scan

_COPIED = ("PatientName", "PatientID", "PatientBirthDate", "Modality", "Manufacturer", "MagneticFieldStrength",
           "SeriesInstanceUID", "StudyInstanceUID", "FrameOfReferenceUID", "SeriesDescription", "SeriesNumber",
           "BodyPartExamined", "Rows", "Columns", "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated",
           "BitsStored", "HighBit", "PixelRepresentation")


def _item(**fields) -> Dataset:
    item = Dataset()
    for keyword, value in fields.items():
        setattr(item, keyword, value)
    return item


def _write_enhanced(classic_files, target, echo_times=None, seed=3) -> None:
    """One Enhanced MR file holding the classic slices as frames, in shuffled frame order."""
    slices = [pydicom.dcmread(p) for p in classic_files]
    echo_times = echo_times or [float(s.EchoTime) for s in slices]
    order = np.random.default_rng(seed).permutation(len(slices))
    first = slices[0]
    ds = Dataset()
    for keyword in _COPIED:
        setattr(ds, keyword, first.get(keyword))
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = EnhancedMRImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
    ds.NumberOfFrames = len(slices)
    ds.SharedFunctionalGroupsSequence = [_item(
        PixelMeasuresSequence=[_item(PixelSpacing=first.PixelSpacing, SliceThickness=first.SliceThickness)],
        PlaneOrientationSequence=[_item(ImageOrientationPatient=first.ImageOrientationPatient)],
        MRTimingAndRelatedParametersSequence=[_item(RepetitionTime=first.RepetitionTime)],
    )]
    ds.PerFrameFunctionalGroupsSequence = [_item(
        PlanePositionSequence=[_item(ImagePositionPatient=slices[k].ImagePositionPatient)],
        PixelValueTransformationSequence=[_item(RescaleSlope=slices[k].RescaleSlope,
                                                RescaleIntercept=slices[k].RescaleIntercept, RescaleType="US")],
        MREchoSequence=[_item(EffectiveEchoTime=echo_times[k])],
    ) for k in order]
    ds.PixelData = b"".join(slices[k].PixelData for k in order)
    target.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(target, enforce_file_format=True)


def test_enhanced_file_loads_like_the_classic_series(tmp_path, capsys):
    facts = write_series(tmp_path / "classic", image_values(7, 16, 20), iop=tilted(SAGITTAL_IOP, 16.0, "y"),
                         pixel_spacing=(0.5, 0.6), slopes=[1, 2, 0.5, 1, 3, 1, 2])
    _write_enhanced(facts["files"], tmp_path / "enhanced" / "IM0001")
    classic, enhanced = load_scan(tmp_path / "classic"), load_scan(tmp_path / "enhanced")
    assert np.array_equal(enhanced.array, classic.array)
    assert np.allclose(enhanced.affine, classic.affine)
    assert (enhanced.view, round(enhanced.tilt_deg, 3)) == ("sagittal", 16.0)
    assert enhanced.meta["series_uid"] == facts["series_uid"] and enhanced.meta["echo_time_ms"] == 100.0
    assert main(["inspect", "--json", str(tmp_path / "enhanced")]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["shape"] == [7, 16, 20]
    for identifier in (PATIENT_NAME, PATIENT_ID, PATIENT_BIRTH_DATE):
        assert identifier not in out.out + out.err + repr(enhanced.meta)


def test_two_echoes_in_one_enhanced_file_become_two_stacks(tmp_path):
    values = image_values(10, 16, 20)
    offsets = [0, 4, 8, 12, 16] * 2  # both echoes at the same five positions
    facts = write_series(tmp_path / "classic", values, offsets_mm=offsets, shuffle=False)
    _write_enhanced(facts["files"], tmp_path / "enhanced" / "IM0001", echo_times=[30.0] * 5 + [100.0] * 5)
    stacks = list_series(tmp_path / "enhanced")
    assert [s.key for s in stacks] == [f"{facts['series_uid']}#1", f"{facts['series_uid']}#2"]
    for stack in stacks:
        scan = load_scan(tmp_path / "enhanced", series=stack.key)
        echo = slice(0, 5) if scan.meta["echo_time_ms"] == 30.0 else slice(5, 10)
        # the fixture's sagittal normal points patient right: canonical slices run the other way
        assert np.array_equal(scan.array, values[echo][::-1].astype(np.float32))
