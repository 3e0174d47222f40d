"""`spinedet preview`: a montage PNG of a synthetic dataset, refusing to overwrite."""

from spinedet.cli import main
from spinedet.synth import generate


def test_preview_writes_png_once(tmp_path, capsys):
    path = generate(tmp_path / "d", "tiny", seed=1, patients={"C1": {"train": 1}, "C4": {"test": 1}})
    out = tmp_path / "p.png"
    assert main(["preview", str(path), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert main(["preview", str(path), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
