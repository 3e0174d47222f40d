"""The study protocol end to end on a tiny override of the paper preset: every stage, outputs, resume."""

import json

from spinedet.study.protocol import run_study


def test_paper_protocol_first_steps_and_resume(tiny_study, capsys):
    plan, study = tiny_study  # the paper preset overridden to the tiny cohort's sizes (conftest, shared)
    roles = {(r["dataset"], r["view"]) for r in study["results"]}
    assert len(roles) == 14  # seven datasets (external III: the unseen scanner C5) in two views
    for r in study["results"]:
        assert 0.0 <= r["f1"] <= 1.0 and 0.0 <= r["cpm"] <= 1.0 and r["n_scans"] == 2
        assert ("level_accuracy_axial_alone" in r) == (r["view"] == "axial")
    named = json.loads((plan.out / "predictions" / "lumbar-axial--external3--levels-from-sagittal.json").read_text())
    assert {s["view"] for s in named["scans"]} == {"axial"}
    saved = json.loads((plan.out / "study.json").read_text())
    assert saved["preset"] == "paper" and saved["wall_s"] > 0
    html = (plan.out / "report.html").read_text()
    assert "Research software, not a medical device" in html and "data:image/png;base64," in html
    assert "src=\"http" not in html  # self-contained
    assert "| Internal validation (C1) |" in (plan.out / "report.md").read_text()
    assert "Axial finder alone" in html
    for name in ("froc-sagittal.png", "pr-axial.png"):
        assert (plan.out / "figures" / name).stat().st_size > 1000
    capsys.readouterr()
    run_study(plan)  # a second run reuses every stage
    out = capsys.readouterr().out
    assert out.count("reused") >= 7 and "spinedet train" not in out.replace("reused", "")


def test_user_data_without_the_training_centre_is_one_line_exit_2(tiny_cohort, tmp_path, capsys):
    from spinedet.cli import main

    assert main(["study", str(tmp_path / "study"), "--data", str(tiny_cohort), "--train-center", "C9"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(tiny_cohort) in err and "'lumbar-train'" in err
    assert not (tmp_path / "study" / "models").exists()
