import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sotong.nlp import routing_eval
from sotong.nlp.datasets import complaints_csv
from sotong.nlp.routing import RoutingModel, Suggestion, default_model, unit_of

DATA = complaints_csv() or Path("/nonexistent")

ROADS = [
    "도로 포장이 파손되어 차량 통행이 위험합니다",
    "보도블록이 깨져서 걷기 불편해요",
    "아스팔트 도로에 포트홀이 생겼어요",
    "도로 파손 보수 요청합니다",
]
PARKS = [
    "공원 놀이터 그네가 부서졌어요",
    "공원 벤치와 산책로 정비 부탁드립니다",
    "공원 나무 가지치기 해주세요",
    "어린이 공원 화장실이 더러워요",
]
BUSES = [
    "버스 배차 간격이 너무 길어요",
    "마을버스 노선을 늘려 주세요",
    "버스 정류장 안내 전광판이 고장났어요",
    "시내버스 기사님이 불친절합니다",
]


def small_model(**kwargs):
    texts = ROADS + PARKS + BUSES
    units = ["도시재생국 건설과"] * 4 + ["도시공원과"] * 4 + ["교통운수과"] * 4
    dates = ["2019.01.02"] * 12
    return RoutingModel(**kwargs).fit(texts, units, dates)


def test_unit_is_the_last_word():
    assert unit_of("도시재생국 교통운수과") == "교통운수과"
    assert unit_of("영종출장소") == "영종출장소"
    assert unit_of("  ") == ""


def test_suggest_ranks_the_right_unit_first_with_calibrated_confidences():
    model = small_model()
    suggestions = model.suggest("도로에 포트홀이 생겨 보수가 필요합니다", k=3)
    assert next(s.unit for s in suggestions) == "건설과"
    assert len(suggestions) == 3
    assert all(isinstance(s, Suggestion) and 0 <= s.confidence <= 1 for s in suggestions)
    assert sum(s.confidence for s in suggestions) <= 1.0001
    assert suggestions[0].confidence > suggestions[1].confidence
    assert model.suggest("공원 놀이터 시설 점검", k=1)[0].unit == "도시공원과"


def test_learn_teaches_a_new_unit_at_once():
    model = small_model(refit_every=100)
    assert "청소과" not in [s.unit for s in model.suggest("음식물 쓰레기 수거가 안 돼요")]
    model.learn("음식물 쓰레기 수거가 안 돼요 악취가 심합니다", "청소과")
    model.learn("쓰레기 무단투기 단속 요청", "환경국 청소과")
    assert model.suggest("쓰레기 수거 요청합니다")[0].unit == "청소과"


def test_learn_refits_every_n_corrections():
    model = small_model(refit_every=2)
    before = model.svm_coef.copy()
    model.learn("버스 정류장 의자가 부서졌어요", "교통운수과")
    assert model.pending == 1
    assert np.array_equal(model.svm_coef, before)
    model.learn("버스 노선 안내가 틀려요", "교통운수과")
    assert model.pending == 0
    assert not np.array_equal(model.svm_coef, before)
    model.learn("쓰레기 무단투기 신고", "청소과")  # a new unit: refitted at once
    assert "청소과" in model.linear_classes
    assert model.pending == 0


def test_aliases_move_a_renamed_unit_onto_its_successor():
    model = RoutingModel({"교통운영과": "교통행정과", "교통행정과": "교통과"}).fit(
        ROADS + BUSES, ["건설과"] * 4 + ["교통운영과"] * 4
    )
    assert model.canonical("교통운영과") == "교통과"
    assert model.classes == ["건설과", "교통과"]
    assert model.suggest("버스 배차 간격")[0].unit == "교통과"
    looping = RoutingModel({"갑과": "을과", "을과": "갑과"})
    assert looping.canonical("갑과") in {"갑과", "을과"}  # a loop ends


def test_save_and_load_round_trip(tmp_path):
    model = small_model()
    model.learn("버스 정류장 의자 설치", "교통운수과")  # a pending correction survives too
    model.save(tmp_path / "m")
    assert (tmp_path / "m.npz").exists()
    assert (tmp_path / "m.json").exists()
    loaded = RoutingModel.load(tmp_path / "m")
    for text in ["버스가 안 와요", "공원 벤치", "도로 파손"]:
        ours = model.suggest(text)
        theirs = loaded.suggest(text)
        assert [s.unit for s in ours] == [s.unit for s in theirs]
        assert np.allclose([s.confidence for s in ours], [s.confidence for s in theirs], atol=0.01)
    assert loaded.pending == model.pending
    with np.load(tmp_path / "m.npz", allow_pickle=False) as arrays:  # no pickled objects
        assert "counts_data" in arrays


def test_the_day_decides_between_a_unit_and_its_renamed_successor():
    # The same duties under two names: 교통행정과 until 2015, 교통운수과 from 2017.
    texts = BUSES * 2 + ROADS
    units = ["교통행정과"] * 4 + ["교통운수과"] * 4 + ["건설과"] * 4
    dates = ["2014.03.01"] * 4 + ["2018.03.01"] * 4 + ["2014.03.01", "2016.01.01"] * 2
    model = RoutingModel().fit(texts, units, dates)
    text = "버스 배차 간격이 길어요"
    assert model.suggest(text, date="2014.05.01")[0].unit == "교통행정과"
    assert model.suggest(text, date="2018.05.01")[0].unit == "교통운수과"
    # No day given: the newest the model knows (a message of today comes after the history).
    assert model.suggest(text)[0].unit == "교통운수과"
    both = [s.unit for s in model.suggest(text, k=3, date="2016.06.01")]
    assert set(both[:2]) == {"교통행정과", "교통운수과"}


def test_a_dated_correction_moves_the_time_prior_at_once():
    model = small_model(refit_every=100)
    model.learn("버스 정류장 의자가 부서졌어요", "교통과", date="2021.06.01")
    model.learn("버스 노선을 바꿔 주세요", "교통과", date="2021.06.02")
    assert model.reference_year > 2021.4
    assert "교통과" in model.classes
    assert model.suggest("버스 정류장 안내", date="2021.06.03")[0].unit == "교통과"
    undated = small_model()
    undated.learn("버스 정류장 의자", "교통과")  # no day: the newest the model knows
    assert undated.years[-1] == undated.reference_year


def test_a_version_1_file_still_loads(tmp_path):
    model = small_model()
    model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m.json").read_text())
    meta["format"] = "sotong-routing-1"
    meta["last_seen"] = {unit: 2019.0 for unit in model.classes}
    (tmp_path / "m.json").write_text(json.dumps(meta, ensure_ascii=False))
    with np.load(tmp_path / "m.npz", allow_pickle=False) as arrays:
        kept = {key: arrays[key] for key in arrays.files if key != "years"}
    np.savez_compressed(tmp_path / "m.npz", **kept)
    loaded = RoutingModel.load(tmp_path / "m")
    assert loaded.years.tolist() == [2019.0] * len(model.labels)
    assert loaded.suggest("공원 놀이터 시설 점검")[0].unit == "도시공원과"


def test_an_undated_model_routes_on_text_alone():
    model = RoutingModel().fit(ROADS + PARKS, ["건설과"] * 4 + ["도시공원과"] * 4)
    assert np.isnan(model.years).all()
    assert model.suggest("도로 포장 파손", date="2020.01.01")[0].unit == "건설과"


def test_loading_something_else_fails_clearly(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a Sotong routing model"):
        RoutingModel.load(tmp_path / "x")


def test_an_unfitted_model_suggests_nothing():
    assert RoutingModel().suggest("도로 파손") == []


def test_fit_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="differ in length"):
        RoutingModel().fit(["하나", "둘"], ["건설과"])


def test_shipped_model_loads_and_routes():
    model = default_model()
    assert default_model() is model
    assert len(model.classes) >= 70
    suggestions = model.suggest("불법 주차 차량 단속 요청합니다", k=3)
    assert len(suggestions) == 3
    assert sum(s.confidence for s in suggestions) <= 1.0001


@pytest.mark.skipif(not DATA.exists(), reason="the shared complaints dataset is not here")
def test_real_data_top3_beats_a_floor():
    data = routing_eval.read_complaints(DATA)
    # A quick split: every fifth complaint held out (aggregates only, no text printed).
    test = list(range(0, len(data), 5))
    held = set(test)
    train = [i for i in range(len(data)) if i not in held]
    model = routing_eval._fit_sotong(data, train, {})
    docs = [data.doc(i) for i in test]
    ranked = routing_eval._sotong_ranked(model, docs, [data.dates[i] for i in test])
    scores = routing_eval.Scores([data.units[i] for i in test], ranked)
    # The baseline (TF-IDF + linear SVM) is at about 0.43 / 0.60 on such splits.
    assert scores.top(3) >= 0.66
    assert scores.top(1) >= 0.50


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "date", "answer_x", "content", "answer_y", "depart"])
        writer.writerows(rows)


def synthetic_rows():
    rows = []
    for year in (2018, 2019, 2020):
        for n, (texts, depart) in enumerate(
            [(ROADS, "도시재생국 건설과"), (PARKS, "도시공원과"), (BUSES, "도시재생국 교통운수과")]
        ):
            for m, text in enumerate(texts):
                rows.append(
                    [
                        text[:8],
                        f"{year}.0{n + 1}.1{m}",
                        "답변완료",
                        text + "\n확인 바랍니다",
                        "답변드립니다",
                        depart,
                    ]
                )
    return rows


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "sotong", "triage", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_eval_prints_json_last(tmp_path):
    write_csv(tmp_path / "c.csv", synthetic_rows())
    result = run_cli("eval", "--data", str(tmp_path / "c.csv"), "--split", "kfold:3", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) == {
        "top1", "top3", "macro_f1", "prequential_top3", "baseline_top1", "baseline_top3"
    }  # fmt: skip
    assert figures["top3"] == 1.0  # three units: any top-3 holds the right one
    assert 0 <= figures["top1"] <= 1
    assert "확인 바랍니다" not in result.stdout  # no complaint text
    dated = run_cli("eval", "--data", str(tmp_path / "c.csv"), "--split", "date:2020-01-01")
    assert dated.returncode == 0, dated.stderr
    assert "prequential top-3" in dated.stdout


def test_cli_train_writes_a_loadable_model(tmp_path):
    write_csv(tmp_path / "c.csv", synthetic_rows())
    result = run_cli("train", "--data", str(tmp_path / "c.csv"), "--out", str(tmp_path / "m"))
    assert result.returncode == 0, result.stderr
    assert (
        RoutingModel.load(tmp_path / "m").suggest("공원 벤치가 부서졌어요")[0].unit == "도시공원과"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--split", "fold:3"], "unknown split"),
        (["--split", "date:2030-01-01"], "no training or no test"),
        (["--split", "date:2020-13-01"], "YYYY-MM-DD"),
    ],
)
def test_cli_bad_split(tmp_path, args, message):
    write_csv(tmp_path / "c.csv", synthetic_rows())
    result = run_cli("eval", "--data", str(tmp_path / "c.csv"), *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_cli_bad_files(tmp_path):
    missing = run_cli("eval", "--data", str(tmp_path / "none.csv"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    wrong = run_cli("eval", "--data", str(tmp_path / "bad.csv"))
    assert wrong.returncode == 2
    assert "missing columns" in wrong.stderr
