"""What each scan of a report was read from: the series description and date, and for DICOM the series itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spinedet.io.dicom import DicomSeries, list_series, select_series


@dataclass
class Source:
    """One analysed scan: its id and view; for the report header a description, series number and date (never names
    of files or folders, which hospitals' exports may build from the patient's name); its DICOM series if any."""

    scan_id: str
    view: str
    description: str
    number: str
    date: str
    series: DicomSeries | None


def _date(header) -> str:
    """SeriesDate (else StudyDate) as YYYY-MM-DD, or '' when neither is a valid DICOM date."""
    value = str(header.get("SeriesDate", "") or header.get("StudyDate", "") or "")
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 and value.isdigit() else ""


def source_of(info: dict, path: Path, series_key: str | None, studies: dict[Path, list[DicomSeries]]) -> Source:
    """The source of a detect job (its scan info, input path and series key, None for a folder of one series);
    `studies` caches the series listed per folder."""
    if not path.is_dir():
        return Source(info["id"], info["view"], "image file", "", "", None)
    if path not in studies:
        studies[path] = list_series(path)
    series = select_series(studies[path], series_key, path)
    number = series.header.get("SeriesNumber", "")
    return Source(info["id"], info["view"], series.description, "" if number is None else str(number),
                  _date(series.header), series)
