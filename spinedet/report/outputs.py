"""What `detect` adds per patient: the `patients` levels of findings.json, and for one patient report.html and sr.dcm.

`detect` hands every scan over while it is loaded (`add`), so that geometry, key images and sources are kept
without keeping the voxels; `finish` then writes the outputs into the staging folder.
"""

from __future__ import annotations

import time
from pathlib import Path

from spinedet.atomic import write_text
from spinedet.infer.overlay import intensity_window
from spinedet.report.coverage import Extent
from spinedet.report.join import patient_entries
from spinedet.report.sources import source_of


class StudyOutputs:
    """Collects per scan what the levels, the report and the SR need, then writes them for the input's patient."""

    def __init__(self, jobs: list):
        self.one_patient = len({job.info["patient"] for job in jobs}) == 1
        self.extents: dict = {}
        self.operating: dict = {}
        self.sources: dict = {}
        self.images: dict = {}
        self._studies: dict = {}
        self.seconds = 0.0

    def add(self, job, scan, findings: list[dict], operating_threshold: float) -> None:
        """One predicted scan: its extent, operating threshold, and (for a one-patient input) source and key images."""
        sid = job.info["id"]
        self.extents[sid] = Extent.of(scan)
        self.operating[sid] = operating_threshold
        if not self.one_patient:
            return
        from spinedet.report.key_image import key_image_png  # matplotlib: only when a report is written

        start = time.perf_counter()
        self.sources[sid] = source_of(job.info, Path(job.source), job.load_kwargs.get("series"), self._studies)
        window = intensity_window(scan.array)
        for n, finding in enumerate(findings):
            self.images[(sid, n)] = key_image_png(scan, finding, window)
        self.seconds += time.perf_counter() - start

    def finish(self, data: dict, staging: Path, version: str) -> list[str]:
        """Add `patients` to the findings dataset, write report.html and sr.dcm into `staging`; notes to print."""
        data["patients"] = patient_entries(data["scans"], self.extents, self.operating)
        if not self.one_patient:
            return [f"report.html and sr.dcm are written for one patient's study; this input holds "
                    f"{len(data['patients'])} patients (their levels are in findings.json)"]
        from spinedet.report.html import report_html
        from spinedet.report.sr import SRUnavailable, build_sr, write_sr  # highdicom: only when an SR is written

        start = time.perf_counter()
        entry = data["patients"][0]
        sources = [self.sources[sid] for ids in entry["scans"].values() for sid in ids]
        write_text(staging / "report.html",
                   report_html(entry, data["classes"], sources, data["models"], self.images, version))
        notes = []
        try:
            write_sr(staging / "sr.dcm", build_sr(entry, self.sources, data["models"], version))
        except SRUnavailable as why:
            notes.append(f"sr.dcm skipped: {why} (a DICOM SR needs the source study's UIDs and frame of reference)")
        self.seconds += time.perf_counter() - start
        return notes
