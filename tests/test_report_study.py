"""`spinedet detect STUDY --model SAG --model AX` on a DICOM study of one synthetic patient: the levels joined across
views, report.html (table against findings.json, offline rendering in headless Chromium) and sr.dcm (highdicom round
trip, dciodvfy). Two runs: a predictor returning the patient's truth boxes (known joins), and models: the small
sagittal run fitted to the tiny cohort (conftest) with a tiny untrained axial one."""

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
import torch
from pydicom.sr.codedict import codes

from dicom_fixtures import PATIENT_BIRTH_DATE, PATIENT_ID, PATIENT_NAME
from model_configs import micro_config
from report_study import EXTRA_PATIENT, TruthPredictor, synthetic_study
from spinedet import __version__, cli
from spinedet.commands import detect
from spinedet.data.dataset import DISC_CLASS, DISEASE_CLASSES, validate
from spinedet.data.levels import ALL_LEVELS
from spinedet.model.build import build_model
from spinedet.model.run import save_run
from spinedet.report import sr_codes
from spinedet.report.html import CSP
from spinedet.report.sr import faces_box

CHROMIUM = Path("/usr/bin/chromium")
DCIODVFY = shutil.which("dciodvfy")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-extensions"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return synthetic_study(tmp_path_factory.mktemp("report"))


def _detect(study_dir: Path, out: Path, extra=()) -> str:
    runs = [str(out.parent / f"{out.name}-{view}") for view in ("sagittal", "axial")]
    assert cli.main(["detect", str(study_dir), "--model", runs[0], "--model", runs[1], "--out", str(out),
                     "--no-overlays", *extra]) == 0
    return runs


@pytest.fixture(scope="module")
def truth_out(study, tmp_path_factory):
    study_dir, rendered = study
    out = tmp_path_factory.mktemp("truth") / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(detect, "_load_predictors", lambda dirs: [TruthPredictor(rendered, d.name.split("-")[-1])
                                                             for d in dirs])
        _detect(study_dir, out)
    return out


def _untrained_run(run_dir: Path, view: str) -> None:
    torch.manual_seed(0)
    config = micro_config()
    config["train"]["score_floor"] = 0.0
    classes = list(DISEASE_CLASSES) + [DISC_CLASS]
    model = build_model(config, classes, "lumbar", view)
    torch.nn.init.constant_(model.finder.heads["heatmap"].bias, 2.0)  # untrained: every local maximum is a disc
    meta = {"config": config, "classes": classes, "view": view, "region": "lumbar", "threshold": 0.16,
            "preprocessing": {view: config["input"]["lumbar"][view]}, "spinedet_version": __version__}
    save_run(run_dir, model, meta)


@pytest.fixture(scope="module")
def model_out(study, tmp_path_factory, fitted_sagittal_run):
    out = tmp_path_factory.mktemp("model") / "out"
    sagittal = out.parent / "out-sagittal"
    shutil.copytree(fitted_sagittal_run, sagittal, ignore=shutil.ignore_patterns("state", "tensorboard"))
    meta = json.loads((sagittal / "model.json").read_text())
    (sagittal / "model.json").write_text(json.dumps({**meta, "threshold": 0.16}))  # an operating threshold to report by
    _untrained_run(out.parent / "out-axial", "axial")
    _detect(study[0], out, ["--threshold", "0.12"])  # below the checkpoints' 0.16: probable and possible findings
    sagittal_findings = [f for s in _findings(out)["scans"] if s["view"] == "sagittal" for f in s["findings"]]
    assert sagittal_findings  # the trained model's own findings go through the join, the report and the SR
    return out


def _findings(out: Path) -> dict:
    return json.loads((out / "findings.json").read_text())


def _all_findings(entry: dict) -> list[dict]:
    return [f for level in entry["levels"] for f in level["findings"]] + entry["unlevelled_findings"]


def test_truth_findings_join_across_views_and_axial_coverage(truth_out):
    data = _findings(truth_out)
    assert validate(data) == []
    (entry,) = data["patients"]
    assert entry["scans"] == {"sagittal": ["study-sagittal-s2"], "axial": ["study-axial-s5"]}
    levels = {lv["level"]: lv for lv in entry["levels"]}
    assert list(levels) == ["T10/T11", "T11/T12", "T12/L1", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]
    # The axial stack covers L3/L4 to L5/S1 only: the levels above are not imaged axially, not "absent".
    assert [lv for lv, e in levels.items() if e["views"]["axial"] == "not imaged"] == list(levels)[:5]
    assert all(e["views"]["sagittal"] == "imaged" for e in levels.values())
    for level in ("L3/L4", "L5/S1"):
        (herniation,) = levels[level]["findings"]
        assert herniation["class"] == "herniation" and herniation["views"] == ["sagittal", "axial"]
        assert herniation["centre_distance_mm"] <= 10.0 and herniation["likelihood"] == "probable"
    assert sum(len(e["findings"]) for e in levels.values()) == 2 and entry["unlevelled_findings"] == []


class AxialOneLevelHigh(TruthPredictor):
    """The truth, with the axial scan's levels named one too high, as an axial finder that miscounted."""

    def predict(self, scan, region=None):
        findings, discs = super().predict(scan, region)
        if self.meta["view"] == "axial":
            up = lambda e: {**e, "level": ALL_LEVELS[ALL_LEVELS.index(e["level"]) - 1]}  # noqa: E731
            findings, discs = [up(f) for f in findings], [up(d) for d in discs]
        return findings, discs


def test_axial_levels_are_named_from_the_sagittal_scan(study, tmp_path):
    out = tmp_path / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(detect, "_load_predictors", lambda dirs: [AxialOneLevelHigh(study[1], d.name.split("-")[-1])
                                                             for d in dirs])
        _detect(study[0], out)
    data = _findings(out)
    assert validate(data) == []
    axial = next(s for s in data["scans"] if s["view"] == "axial")
    assert axial["levels_from"] == {"scan": "study-sagittal-s2", "shift": 1}
    assert [d["level"] for d in axial["discs"]] == [d["level"] for d in study[1]["axial"].discs]
    levels = {lv["level"]: lv for lv in data["patients"][0]["levels"]}
    for level in ("L3/L4", "L5/S1"):  # joined across views as the truth's own names join them
        (herniation,) = levels[level]["findings"]
        assert herniation["views"] == ["sagittal", "axial"]


def _sr_boxes(sr) -> list[tuple]:
    """(class code, level code, probability, box, tracking UID, series UID) of every volumetric group."""
    found = []
    for group in sr.content.get_volumetric_roi_measurement_groups():
        (probability,) = group.get_measurements(name=codes.DCM.Probability)
        box = faces_box(group.roi.graphic_data)
        series = {item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
                  for item in group.roi if item.name == codes.DCM.SourceImageForSegmentation}
        site = group.finding_sites[0].value.value if group.finding_sites else None  # none for an unlevelled finding
        found.append((group.finding_type.value, site, probability.value, box,
                      group.tracking_uid, series))
    return found


def _sr_grade(group) -> tuple | None:
    """(name, value, probability) of a volumetric group's grade, None where it has none."""
    evaluations = group.get_qualitative_evaluations()
    probabilities = group.get_measurements(name=sr_codes.GRADE_PROBABILITY)
    if not evaluations and not probabilities:
        return None
    (evaluation,), (probability,) = evaluations, probabilities
    return evaluation.name, evaluation.value, probability.value


def _source_instances(study_dir: Path) -> dict[str, str]:
    return {str(ds.SOPInstanceUID): str(ds.SeriesInstanceUID)
            for ds in (pydicom.dcmread(p, stop_before_pixels=True) for p in study_dir.rglob("*") if p.is_file())}


@pytest.mark.parametrize("run", ["truth_out", "model_out"])
def test_sr_round_trips_every_box(run, request, study):
    out = request.getfixturevalue(run)
    data = _findings(out)
    (entry,) = data["patients"]
    scans = {s["id"]: s for s in data["scans"]}
    sr = hd.sr.srread(out / "sr.dcm")
    instances = _source_instances(study[0])
    assert sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR Storage
    got = _sr_boxes(sr)
    expected = [(f, view) for f in _all_findings(entry) for view in f["views"]]
    assert len(got) == len(expected) > 0
    groups = sr.content.get_volumetric_roi_measurement_groups()
    assert run == "model_out" or any("grade" in f[view] for f, view in expected)  # the truth's grades reach the SR
    for (f, view), (cls_code, site_code, probability, box, _, referenced), group in zip(expected, got, groups):
        seen = f[view]
        assert cls_code == sr_codes.finding_type(f["class"]).value
        assert site_code == (sr_codes.level_site(f["level"]).value if f["level"] else None)
        assert probability == pytest.approx(seen["score"], abs=1e-6)
        assert np.allclose(box, scans[seen["scan"]]["findings"][seen["finding"]]["box_lps"], atol=0.01)
        assert _sr_grade(group) == ((*sr_codes.grade_evaluation(f["class"], seen["grade"]), seen["grade_probability"])
                                    if "grade" in seen else None)
        series_uid = scans[seen["scan"]]["series"]
        assert referenced and all(instances[uid] == series_uid for uid in referenced)
    by_uid = {}
    for (f, _), item in zip(expected, got):
        by_uid.setdefault(item[4], set()).add(id(f))
    assert all(len(fs) == 1 for fs in by_uid.values())  # one Tracking UID per finding, shared by its two views
    assert len(by_uid) == len(_all_findings(entry))
    (summary,) = sr.content.get_image_measurement_groups()
    (evaluation,) = summary.get_qualitative_evaluations(name=codes.DCM.SummaryOfDetections)
    assert evaluation.value == codes.DCM.AllAlgorithmsSucceededWithFindings


def test_sr_names_the_study_and_only_required_patient_attributes(truth_out, study):
    sr = pydicom.dcmread(truth_out / "sr.dcm")
    source = pydicom.dcmread(next(p for p in (study[0] / "SE2").iterdir()))
    assert sr.StudyInstanceUID == source.StudyInstanceUID and sr.Modality == "SR"
    assert (str(sr.PatientName), sr.PatientID, sr.PatientBirthDate, sr.PatientSex) == (
        PATIENT_NAME, PATIENT_ID, PATIENT_BIRTH_DATE, "F")
    raw = (truth_out / "sr.dcm").read_bytes()
    for keyword, value in EXTRA_PATIENT.items():
        if keyword != "PatientSex":
            assert keyword not in sr and value.encode() not in raw
    frames = {item.ReferencedFrameOfReferenceUID for item in _scoords(sr)}
    assert frames == {source.FrameOfReferenceUID}


def _scoords(ds):
    for item in ds.get("ContentSequence", []):
        if item.ValueType == "SCOORD3D":
            yield item
        yield from _scoords(item)


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian package dicom3tools) is not installed")
@pytest.mark.parametrize("run", ["truth_out", "model_out"])
def test_sr_passes_dciodvfy(run, request):
    out = request.getfixturevalue(run)
    result = subprocess.run([DCIODVFY, str(out / "sr.dcm")], capture_output=True, text=True, timeout=120)
    lines = (result.stdout + result.stderr).splitlines()
    assert "Comprehensive3DSR" in lines
    assert [line for line in lines if line.startswith("Error")] == []


class _LevelTable(HTMLParser):
    """The level table of report.html: per row level, view status and (class, likelihood, score, views) findings."""

    def __init__(self):
        super().__init__()
        self.rows, self.cls, self.view, self.in_table = {}, None, None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.in_table = a.get("id") == "levels"
        elif self.in_table and tag == "tr" and "data-level" in a:
            self.level = a["data-level"]
            self.rows[self.level] = {"views": {}, "findings": []}
        elif self.in_table and tag == "td":
            self.cls, self.view = a.get("data-class"), a.get("data-view")
        elif self.in_table and tag == "span" and "data-score" in a:
            self.rows[self.level]["findings"].append((self.cls, a["data-likelihood"], a["data-score"],
                                                      a["data-views"].split()))

    def handle_data(self, data):
        if self.in_table and self.view and data.strip():
            self.rows[self.level]["views"][self.view] = data.strip()

    def handle_endtag(self, tag):
        if tag == "td":
            self.view = None
        elif tag == "table":
            self.in_table = False


def _table(html: str) -> dict:
    parser = _LevelTable()
    parser.feed(html)
    return parser.rows


def _expected_table(entry: dict) -> dict:
    classes = list(DISEASE_CLASSES)
    return {lv["level"]: {"views": lv["views"], "findings": sorted(
        [(f["class"], f["likelihood"], f"{f['score']:.2f}", f["views"]) for f in lv["findings"]],
        key=lambda t: classes.index(t[0]))} for lv in entry["levels"]}


@pytest.mark.parametrize("run", ["truth_out", "model_out"])
def test_report_table_matches_findings_json(run, request):
    out = request.getfixturevalue(run)
    (entry,) = _findings(out)["patients"]
    html = (out / "report.html").read_text()
    table = _table(html)
    for rows in table.values():
        rows["findings"].sort(key=lambda t: list(DISEASE_CLASSES).index(t[0]))
    assert table == _expected_table(entry)
    words = {w for lv in entry["levels"] for f in lv["findings"] for w in [f["likelihood"]]}
    assert words == ({"probable"} if run == "truth_out" else {"probable", "possible"})
    assert html.count("<img ") == sum(len(f["views"]) for f in _all_findings(entry))
    assert "Research software, not a medical device." in html and f'content="{CSP}"' in html
    for secret in (PATIENT_NAME.split("^")[0], PATIENT_NAME.split("^")[1], PATIENT_ID, PATIENT_BIRTH_DATE):
        assert secret not in html


def _page_requests(net_log: Path) -> list[str]:
    """URLs that the page itself (top frame file://) asked the network for, from a Chromium NetLog."""
    log = json.loads(net_log.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [e["params"]["url"] for e in log["events"] if e["type"] == start
            and "file://" in e["params"].get("network_isolation_key", "")]


def _chromium(page: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["nice", "-n", "19", str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}",
                           f"--log-net-log={tmp / 'net.json'}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="/usr/bin/chromium (Debian package chromium) is not installed")
def test_report_renders_offline_in_chromium(truth_out, tmp_path):
    # Control: a page without the policy that asks for an image over HTTP shows up in the NetLog.
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/canary.png"></body></html>')
    _chromium(control, tmp_path, "--dump-dom")
    assert _page_requests(tmp_path / "net.json") == ["http://127.0.0.1:9/canary.png"]
    page = truth_out / "report.html"
    dom = _chromium(page, tmp_path, "--dump-dom").stdout
    assert _page_requests(tmp_path / "net.json") == []
    (entry,) = _findings(truth_out)["patients"]
    table = _table(dom)
    assert list(table) == [lv["level"] for lv in entry["levels"]]
    assert table["L3/L4"]["findings"] == [("herniation", "probable", "0.90", ["sagittal", "axial"])]
    shot = tmp_path / "report.png"
    _chromium(page, tmp_path, "--window-size=1200,1500", f"--screenshot={shot}")
    assert _page_requests(tmp_path / "net.json") == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
