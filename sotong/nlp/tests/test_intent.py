import pytest

from sotong.nlp.intent import classify


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("주민센터 토요일에도 여나요?", "question"),
        ("여권 발급은 어디서 신청하면 될까요", "question"),
        ("신청 기간이 언제까지인지 궁금합니다", "question"),
        ("왜 아직도 보도블록 공사가 안 끝나는 건가요? 너무 불편합니다", "complaint"),
        ("밤마다 공사 소음 때문에 잠을 못 자요. 짜증납니다", "complaint"),
        ("골목에 쓰레기가 몇 주째 방치되어 악취가 심해요", "complaint"),
        ("공원에 그늘막을 설치해 주시면 좋겠습니다", "suggestion"),
        ("마을버스 배차 간격 개선을 건의합니다", "suggestion"),
        ("어린이 도서관을 주말에도 열었으면 좋겠어요", "suggestion"),
        ("빠르게 처리해 주셔서 정말 감사합니다!", "praise"),
        ("담당 주무관님 친절하게 안내해 주셔서 고맙습니다", "praise"),
        ("중구청 최고예요 수고 많으셨습니다", "praise"),
        ("오늘 월미도 축제에 사람이 많네요", "opinion"),
        ("개항장 거리 분위기가 예전과 많이 달라졌네요", "opinion"),
        ("월 500 수익 보장 부업 https://bit.ly/abc 무료 가입 클릭", "spam"),
        ("카지노 바카라 이벤트 www.example.xyz", "spam"),
        ("시발 구청 일 똑바로 해라", "spam"),
    ],
)
def test_intent(text, intent):
    result = classify(text)
    assert result.intent == intent, result
    if intent != "opinion":
        assert result.reasons  # the staff see why


@pytest.mark.parametrize(
    ("text", "urgency"),
    [
        ("신호등 시간이 너무 짧아요", "normal"),
        ("분리수거 요일이 언제인가요?", "normal"),
        ("건물에서 가스 냄새가 나요", "high"),
        ("교차로 신호등이 고장나서 사고 날 뻔했어요", "high"),
        ("아파트 앞 도로에 싱크홀이 생겨 위험합니다", "urgent"),
        ("지하 주차장 침수 중입니다 지금 당장 와 주세요", "urgent"),
        ("시장 골목에 불이 났어요 119 불렀습니다", "urgent"),
        ("할머니가 길에서 쓰러지셨어요 다치신 것 같아요", "urgent"),
    ],
)
def test_urgency(text, urgency):
    result = classify(text)
    assert result.urgency == urgency, result


def test_safety_cues_are_reasons_and_make_a_complaint():
    result = classify("공사장 옆 담벼락에 균열이 생겨서 붕괴 위험이 있어요")
    assert result.urgency == "urgent"
    assert result.intent == "complaint"
    assert any(r.startswith("안전:") and "붕괴" in r for r in result.reasons)


def test_a_link_alone_is_not_spam():
    assert (
        classify("구청 공지 https://www.icjg.go.kr 보고 문의드립니다. 접수는 어디서 하나요?").intent
        == "question"
    )


def test_empty_text():
    result = classify("")
    assert (result.intent, result.urgency, result.reasons) == ("opinion", "normal", [])
