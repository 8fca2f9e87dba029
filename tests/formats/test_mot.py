"""MOTChallenge reader: files written by datumaro's exporter, ByteTrack's and norfair's writers
and sequence folders as MOTChallenge ships them (fixtures/mot/make_fixtures.py), bad rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import event, given
from hypothesis import strategies as st

from prelabel.annotations import Annotations
from prelabel.cli import main
from prelabel.convert import FrameOptions, LabelOptions, convert
from prelabel.errors import InputError
from prelabel.formats.mot import MAX_FRAMES, MOT_CLASSES, read_mot
from prelabel.report import Report
from prelabel.validate import file_problems
from tests.strategies import byte_mutations, mutate_bytes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mot"
PREFIX = FrameOptions(src_prefix="https://example.com/")


def box(ann: Annotations, i: int) -> list[list[float]]:
    return ann.points[ann.offsets[i] : ann.offsets[i + 1]].tolist()


def label(ann: Annotations, i: int) -> str:
    return ann.labels[ann.label[i]]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def converted(ann: Annotations, tmp_path: Path, **kw: object) -> list[dict[str, object]]:
    out = tmp_path / "jobs.jsonl"
    convert(ann, out, frames=PREFIX, **kw)  # type: ignore[arg-type]
    assert list(file_problems(out)) == []
    return [json.loads(line) for line in out.read_text().splitlines()]


# --- datumaro's mot_seq_gt export: gt/gt.txt (CRLF rows), gt/labels.txt, img1/*.jpg ----------------
def test_datumaro_export() -> None:
    report = Report()
    ann = read_mot(FIXTURES / "datumaro_gt", report=report)
    # frames 1..5 named img1/%06d.jpg: 3 and 5 have no rows (5 is there by its image alone)
    assert ann.frames.name.tolist() == [f"img1/00000{n}.jpg" for n in range(1, 6)]
    assert ann.frames.index.tolist() == [0, 1, 2, 3, 4]
    # no seqinfo.ini: the sizes are the images' headers (160x120) and the name the folder's
    assert ann.frames.width.tolist() == [160] * 5
    assert ann.frames.height.tolist() == [120] * 5
    assert set(ann.frames.sequence.tolist()) == {"datumaro_gt"}
    assert ann.labels == ("person", "car")  # labels.txt: class 1 person, class 2 car
    # row 1 "1,1,10.0,20.0,30.0,40.0,1,1,1.0": x 10, y 20, w 30, h 40 -> x2 = 10 + 30, y2 = 20 + 40
    assert box(ann, 0) == [[10, 20], [40, 20], [40, 60], [10, 60]]
    assert [label(ann, i) for i in range(len(ann))] == [
        "person",
        "car",
        "person",
        "person",
        "person",
    ]
    # datumaro renumbers track ids 7 -> 1, 9 -> 2; its untracked box is -1
    assert ann.track.tolist() == [1, 2, 1, 1, -1]
    assert ann.frame.tolist() == [0, 0, 1, 3, 3]
    # visibility as an attribute; datumaro writes 1 - occluded = 0.0 for an occluded box
    assert ann.attributes[:3].tolist() == [
        {"visibility": 1.0},
        {"visibility": 0.0},
        {"visibility": 0.6},
    ]
    assert np.isnan(ann.score).all()  # ground truth has no score
    # the ignored box (consider flag 0, line 4) is dropped and reported
    assert [(r["reason"], r["source"]) for r in report.rows] == [
        ("ignored_in_source", "gt/gt.txt:4")
    ]
    # the class -1 row (line 6: datumaro's label=None) takes class 1
    assert ann.source.tolist()[-1] == "gt/gt.txt:6"


def test_keep_ignored_marks_the_box() -> None:
    report = Report()
    ann = read_mot(FIXTURES / "datumaro_gt", keep_ignored=True, report=report)
    assert len(ann) == 6
    assert not report.rows
    assert ann.attributes[3] == {"visibility": 1.0, "ignored": True}


def test_datumaro_export_converts_to_valid_payloads(tmp_path: Path) -> None:
    report = Report()
    jobs = converted(read_mot(FIXTURES / "datumaro_gt", report=report), tmp_path, report=report)
    assert len(jobs) == 1
    frames = jobs[0]["data"]["video_data"]["frames"]  # type: ignore[index]
    assert [f["frame_id"] for f in frames] == ["000001", "000002", "000003", "000004", "000005"]
    # the box at x 140..170 of a 160-wide image is clamped (a repair, reported)
    assert ("repaired", "out_of_frame") in report.counts


# --- sequence folders as MOTChallenge ships them: seqinfo.ini, gt/, det/ -------------------------
def test_folder_of_sequences() -> None:
    report = Report()
    ann = read_mot(FIXTURES / "train", report=report)
    seq = ann.frames.sequence.tolist()
    # seq-02: seqLength 6 (frames 5 and 6 without rows kept); seq-05: 4
    assert seq == ["seq-02"] * 6 + ["seq-05"] * 4
    assert ann.frames.name.tolist()[:2] == ["seq-02/img1/000001.jpg", "seq-02/img1/000002.jpg"]
    assert ann.frames.width.tolist() == [1920] * 6 + [640] * 4  # imWidth
    assert ann.frames.height.tolist() == [1080] * 6 + [480] * 4  # imHeight
    gt = ann.frames.sequence[ann.frame] == "seq-02"
    # seq-02 has gt/gt.txt: 7 rows less the distractor with consider 0 (line 4)
    assert int(gt.sum()) == 6
    assert report.rows[0]["source"] == "seq-02/gt/gt.txt:4"
    assert report.rows[0]["frame"] == "seq-02/img1/000002.jpg"
    # no labels.txt: the MOT16/17/20 classes; class 7 static person, class 9 occluder
    assert ann.labels == MOT_CLASSES
    assert [label(ann, i) for i in np.flatnonzero(gt)] == ["pedestrian", "static person"] + [
        "pedestrian"
    ] * 3 + ["occluder"]
    # "4,4,1000,500,200,60,1,9,0.25": x2 = 1000 + 200, y2 = 500 + 60
    assert box(ann, 5) == [[1000, 500], [1200, 500], [1200, 560], [1000, 560]]
    assert ann.attributes[5] == {"visibility": 0.25}
    # seq-05 has only det/det.txt: untracked detections with their confidences
    assert ann.track[~gt].tolist() == [-1] * 5
    assert ann.score[~gt].tolist() == [0.9, 0.8, 0.85, 0.6, 0.9]
    assert ann.attributes[~gt].tolist() == [None] * 5
    # frame rows: seq-05 starts at frame row 6; its frame 3 holds two boxes
    assert ann.frame[~gt].tolist() == [6, 7, 8, 8, 9]


def test_rows_det_reads_the_detections() -> None:
    ann = read_mot(FIXTURES / "train" / "seq-02", rows="det")
    assert len(ann) == 5
    assert ann.track.tolist() == [-1] * 5
    assert ann.score.tolist() == [0.98, 0.71, 0.95, 0.42, 0.88]
    # "1,-1,101.5,199.0,49.0,121.0,0.98": x2 = 101.5 + 49 = 150.5, y2 = 199 + 121 = 320
    assert box(ann, 0) == [[101.5, 199], [150.5, 199], [150.5, 320], [101.5, 320]]
    assert ann.frames.name.tolist()[0] == "img1/000001.jpg"  # one sequence: no prefix


def test_gt_file_inside_its_sequence_uses_seqinfo() -> None:
    ann = read_mot(FIXTURES / "train" / "seq-02" / "gt" / "gt.txt")
    assert len(ann.frames) == 6
    assert ann.frames.width[0] == 1920
    assert ann.source[0] == "gt.txt:1"


# --- tracker results: ByteTrack's write_results and norfair's PredictionsTextFile --------------
def test_folder_of_tracker_results_with_their_sequences() -> None:
    ann = read_mot(FIXTURES / "results", image_dir=FIXTURES / "train")
    assert ann.frames.sequence.tolist() == ["seq-02"] * 6 + ["seq-05"] * 4  # seqLength, not rows
    byte = ann.frames.sequence[ann.frame] == "seq-02"
    # ByteTrack rounds scores to 2 places (0.981 -> 0.98) and leaves out track -1 itself
    assert ann.score[byte].tolist() == [0.98, 0.7, 0.9, 0.88]
    assert ann.track[byte].tolist() == [1, 2, 1, 1]
    assert ann.frame[byte].tolist() == [0, 0, 1, 3]  # frame 3 has no row: a gap
    # round(130.25, 1) = 130.2; "4,1,130.2,202.0,50.0,120.0": x2 = 180.2, y2 = 322
    assert box(ann, 3) == [[130.2, 202], [180.2, 202], [180.2, 322], [130.2, 322]]
    # norfair writes -1 for the confidence: no score; its ids are its tracks
    assert np.isnan(ann.score[~byte]).all()
    assert ann.track[~byte].tolist() == [1, 1, 1, 2, 1, 2]
    # "2,1,12.940397350993377,20.735099337748345,30.0,59.99999999999999": the Kalman estimate
    x1, y1 = 12.940397350993377, 20.735099337748345
    assert box(ann, 5)[2] == [x1 + 30.0, y1 + 59.99999999999999]
    assert {label(ann, i) for i in range(len(ann))} == {"pedestrian"}  # class -1: class 1


def test_min_score_uses_the_confidence(tmp_path: Path) -> None:
    report = Report()
    ann = read_mot(FIXTURES / "results", image_dir=FIXTURES / "train", report=report)
    jobs = converted(ann, tmp_path, labels=LabelOptions(min_score=0.8), report=report)
    # ByteTrack's 0.7 is below; norfair's rows have no score and are never below
    assert report.counts[("dropped", "below_min_score")] == 1
    shapes = [len(j["data"]["maker_response"]["video2d"]["data"]["annotations"]) for j in jobs]  # type: ignore[index]
    assert shapes == [1, 2]  # ByteTrack: track 1 (track 2 was its only row); norfair: 2 tracks


def test_lone_results_file_needs_a_size() -> None:
    src = FIXTURES / "results" / "seq-02.txt"
    with pytest.raises(InputError, match="no image size.*image_dir= or width= and height=") as err:
        read_mot(src)
    assert err.value.path == str(src)
    ann = read_mot(src, width=1920, height=1080)
    assert len(ann.frames) == 4
    assert ann.frames.sequence[0] == "seq-02"
    ann = read_mot(src, image_dir=FIXTURES / "train" / "seq-02")
    assert len(ann.frames) == 6  # that sequence's seqinfo.ini
    # explicit sizes win over seqinfo.ini
    assert (
        read_mot(src, image_dir=FIXTURES / "train" / "seq-02", width=8, height=6).frames.width[0]
        == 8
    )


def test_names_list_and_file(tmp_path: Path) -> None:
    src = write(tmp_path / "a.txt", "1,1,1,1,2,2,0.5,2,-1\n1,2,1,1,2,2,0.5,-1,-1\n")
    ann = read_mot(src, names=["car", "bus"], width=10, height=10)
    assert [label(ann, 0), label(ann, 1)] == ["bus", "car"]  # class 2; class -1 is class 1
    names = write(tmp_path / "names.txt", "car\nbus\n")
    assert read_mot(src, names=names, width=10, height=10).labels == ("car", "bus")
    with pytest.raises(InputError, match=r"names\[0\]: label 'a\\x00'"):
        read_mot(src, names=["a\x00"], width=10, height=10)


def test_whitespace_rows_and_bom(tmp_path: Path) -> None:
    src = write(tmp_path / "a.txt", "\ufeff1 3 1 1 2 2 0.5\n\n2, 3, 1, 1, 2, 2, 0.25,\n")
    ann = read_mot(src, width=10, height=10)
    assert ann.track.tolist() == [3, 3]
    assert ann.score.tolist() == [0.5, 0.25]
    assert ann.source.tolist() == ["a.txt:1", "a.txt:3"]  # the blank line 2 still counts


def test_first_class_zero_for_yolo_class_ids(tmp_path: Path) -> None:
    # boxmot's example writer: np.savetxt(fmt="%d") of frame, id, ltwh, conf, YOLO cls, -1
    src = write(tmp_path / "clip.txt", "1 3 100 200 50 120 0 0 -1\n2 3 104 200 50 120 0 2 -1\n")
    with pytest.raises(InputError, match=r"clip.txt:1: class 0 is not -1 or one of 1..12"):
        read_mot(src, width=640, height=480)
    ann = read_mot(src, width=640, height=480, first_class=0, names=["person", "bicycle", "car"])
    assert [label(ann, 0), label(ann, 1)] == ["person", "car"]  # classes 0 and 2
    # "1 3 100 200 50 120": x2 = 100 + 50, y2 = 200 + 120
    assert box(ann, 0) == [[100, 200], [150, 200], [150, 320], [100, 320]]
    assert ann.track.tolist() == [3, 3]


def test_world_coordinates_of_mot15(tmp_path: Path) -> None:
    src = write(tmp_path / "gt.txt", "1,1,10,10,5,5,1,-12.5,4.25,0\n")
    with pytest.raises(InputError, match=r":1: class -12.5 is not -1 or one of 1..12"):
        read_mot(src, width=100, height=100)
    ann = read_mot(src, width=100, height=100, world_coordinates=True)
    assert label(ann, 0) == "pedestrian"
    assert ann.attributes[0] is None


# --- bad rows: FILE:LINE, or dropped and reported --------------------------------------------
GOOD = "1,1,10,10,5,5,1,1,1\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1,1,10,10,5", "expected at least 6 values (frame,id,x,y,w,h), got 5"),
        ("2,1,x,10,5,5,1,1,1", "not a number (or an empty field) in '2,1,x,10,5,5,1,1,1'"),
        ("2,1,,10,5,5,1,1,1", "not a number (or an empty field)"),
        (",1,10,10,5,5,1,1,1", "not a number (or an empty field)"),
        ("2,1 , ,10,5,5,1,1,1", "not a number (or an empty field)"),
        ("\t ,1,10,10,5,5,1,1,1", "not a number (or an empty field)"),
        ("2,1,nan,10,5,5,1,1,1", "not a finite number in '2,1,nan,10,5,5,1,1,1'"),
        ("0,1,10,10,5,5,1,1,1", "frame 0 is not a whole number >= 1 (MOT frames count from 1)"),
        ("1.5,1,10,10,5,5,1,1,1", "frame 1.5 is not a whole number >= 1"),
        ("2,-2,10,10,5,5,1,1,1", "id -2 is not a whole number >= -1 (-1: no track)"),
        ("2,1.5,10,10,5,5,1,1,1", "id 1.5 is not a whole number"),
        ("2,1,10,10,5,5,1,13,1", "class 13 is not -1 or one of 1..12 (the labels; give names=)"),
        ("2,1,10,10,5,5,1,0,1", "class 0 is not -1 or one of 1..12"),
        ("2,1,10,10,5,5,1,1,1.5", "visibility 1.5 is not -1 or between 0 and 1"),
        (
            f"{MAX_FRAMES + 1},1,10,10,5,5,1,1,1",
            "frame 1000001 is beyond the limit of 1,000,000 frames",
        ),
    ],
)
def test_bad_row_names_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    src = write(tmp_path / "gt.txt", GOOD + row + "\n" + GOOD)
    with pytest.raises(InputError) as err:
        read_mot(src, width=100, height=100)
    assert str(err.value).startswith(f"{src}:2: {message}")
    report = Report()
    ann = read_mot(src, width=100, height=100, on_invalid="drop", report=report)
    assert len(ann) == 2
    assert ann.source.tolist() == ["gt.txt:1", "gt.txt:3"]
    assert [(r["action"], r["reason"], r["source"]) for r in report.rows] == [
        ("dropped", "invalid_row", "gt.txt:2")
    ]
    assert message in report.rows[0]["detail"]


def test_frames_beyond_seqlength_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "seq"
    write(root / "seqinfo.ini", "[Sequence]\nname=s\nseqLength=3\nimWidth=10\nimHeight=10\n")
    write(root / "gt" / "gt.txt", GOOD + "4,1,1,1,2,2,1,1,1\n")
    with pytest.raises(InputError, match=r"gt.txt:2: frame 4 is beyond seqLength 3 of seqinfo.ini"):
        read_mot(root)


@pytest.mark.parametrize(
    ("ini", "where", "message"),
    [
        (
            "[Sequence]\nseqLength=abc\n",
            "seqLength",
            "seqLength 'abc' is not a whole number in 1..1,000,000",
        ),
        # bounded: a declared length is checked before any frame is allocated
        (
            "[Sequence]\nseqLength=1000000000\n",
            "seqLength",
            "seqLength '1000000000' is not a whole number in 1..1,000,000",
        ),
        (
            "[Sequence]\nimWidth=0\n",
            "imWidth",
            "imWidth '0' is not a whole number in 1..2,147,483,648",
        ),
        ("[Sequence]\nimDir=../elsewhere\n", "imDir", "leaves the dataset root"),
        ("[Sequence]\nimExt=jpg\n", "imExt", "imExt 'jpg' is not a file suffix"),
        ("[Other]\nname=x\n", None, "no [Sequence] section"),
        ("name=x\n", "1", "invalid seqinfo.ini"),
    ],
)
def test_bad_seqinfo(tmp_path: Path, ini: str, where: str | None, message: str) -> None:
    root = tmp_path / "seq"
    write(root / "seqinfo.ini", ini)
    write(root / "gt" / "gt.txt", GOOD)
    with pytest.raises(InputError) as err:
        read_mot(root, width=10, height=10)
    assert err.value.path == str(root / "seqinfo.ini")
    assert err.value.location == where
    assert message in err.value.message


def test_imdir_of_seqinfo_names_the_frames(tmp_path: Path) -> None:
    root = tmp_path / "seq"
    write(root / "seqinfo.ini", "[Sequence]\nimDir=frames/\nimExt=.png\nseqLength=2\n")
    write(root / "gt" / "gt.txt", GOOD)
    ann = read_mot(root, width=10, height=10)
    assert ann.frames.name.tolist() == ["frames/000001.png", "frames/000002.png"]
    write(root / "seqinfo.ini", "[Sequence]\nimDir=.\nseqLength=1\n")
    assert read_mot(root, width=10, height=10).frames.name.tolist() == ["000001.jpg"]
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside")
    write(root / "seqinfo.ini", "[Sequence]\nimDir=link\n")
    with pytest.raises(InputError, match="imDir: image path 'link' resolves outside"):
        read_mot(root, width=10, height=10)


def test_two_sequences_of_one_name_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", GOOD)
    write(tmp_path / "b" / "seqinfo.ini", "[Sequence]\nname=a\n")
    write(tmp_path / "b" / "gt" / "gt.txt", GOOD)
    with pytest.raises(InputError, match="sequence 'a' again"):
        read_mot(tmp_path, width=10, height=10)


def test_a_folder_without_mot_files(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match="no seqinfo.ini, gt/gt.txt, det/det.txt or <seq>.txt here"
    ):
        read_mot(tmp_path)


# --- the CLI ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        [str(FIXTURES / "datumaro_gt")],
        [str(FIXTURES / "train")],
        [str(FIXTURES / "train" / "seq-02"), "--rows", "det", "--min-score", "0.5"],
        [str(FIXTURES / "results"), "--image-dir", str(FIXTURES / "train")],
        [str(FIXTURES / "results" / "seq-05.txt"), "--width", "640", "--height", "480"],
        [str(FIXTURES / "train" / "seq-02" / "gt" / "gt.txt"), "--first-class", "0"],
    ],
)
def test_cli_output_validates(tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "jobs.jsonl"
    base = ["convert", "mot", *args, "--src-prefix", "https://example.com/", "-o", str(out)]
    result = CliRunner().invoke(main, [*base, "-q"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["validate", str(out)])
    assert result.exit_code == 0, result.output


def test_cli_bad_row_exit_2_and_drop(tmp_path: Path) -> None:
    src = write(tmp_path / "r.txt", GOOD + "2,1,10,10,5\n")
    out, report = tmp_path / "jobs.jsonl", tmp_path / "report.json"
    base = ["convert", "mot", str(src), "--width", "100", "--height", "100",
            "--src-prefix", "https://example.com/", "-o", str(out)]  # fmt: skip
    result = CliRunner().invoke(main, [*base, "-q"])
    assert result.exit_code == 2
    assert f"{src}:2: expected at least 6 values" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(main, [*base, "--on-invalid", "drop", "--report", str(report)])
    assert result.exit_code == 0, result.output
    rows = json.loads(report.read_text())["rows"]
    assert [(r["reason"], r["source"]) for r in rows] == [("invalid_row", "r.txt:2")]
    result = CliRunner().invoke(main, [*base[:5], "--width", "5", "-o", str(out)])
    assert result.exit_code == 2
    assert "--width and --height go together" in result.output


def test_lazy_export() -> None:
    import prelabel

    assert prelabel.read_mot is read_mot


# --- fuzz: mutated real files -> valid output or one InputError --------------------------------
FUZZ_TOKENS = [
    b",", b",,", b"\n", b"\r\n", b" ", b"\t", b"\x00", b"\xff", b"\xef\xbb\xbf", b"-", b"-1", b".",
    b"e", b"0", b"1", b"9" * 25, b"nan", b"inf", b"1e308", b"[", b"]", b"=", b"seqLength=2",
    b"imDir=../", b"imExt=.png", b"name=", b"\xc3\xa9",
]  # fmt: skip
mutation = byte_mutations(FUZZ_TOKENS)


@given(
    fixture=st.sampled_from(["datumaro_gt", "train", "results"]),
    pick=st.lists(st.floats(0, 1), min_size=1, max_size=3),
    mutations=st.lists(mutation, min_size=1, max_size=4),
    policy=st.sampled_from(["repair", "drop"]),
)
def test_fuzz_mutated_real_files_give_valid_output_or_an_input_error(
    tmp_path_factory: pytest.TempPathFactory,
    fixture: str,
    pick: list[float],
    mutations: list[tuple[str, float, bytes, int]],
    policy: str,
) -> None:
    base = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(FIXTURES / "train", base / "train")
    root = base / fixture
    if fixture != "train":
        shutil.copytree(FIXTURES / fixture, root)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix != ".jpg")
    for at in pick:  # mutate one to three of the fixture's text files, each by every mutation
        target = files[min(int(at * len(files)), len(files) - 1)]
        data = target.read_bytes()
        for m in mutations:
            data = mutate_bytes(data, *m)
        target.write_bytes(data)
    out = base / "jobs.jsonl"
    report = Report()
    try:
        ann = read_mot(
            root,
            image_dir=base / "train",
            on_invalid=policy,
            report=report,  # type: ignore[arg-type]
        )
        convert(ann, out, frames=PREFIX, on_invalid=policy, report=report, default_sequence=fixture)
    except InputError as exc:
        assert str(exc)
        assert "\n" not in exc.message
        event("InputError")
        return
    assert list(file_problems(out)) == []
    event("valid output")
