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


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("조례동 도로에 물이 넘쳐요", "넘치다"),
        ("가로등이 꺼졌어요", "꺼지다"),
        ("가로등이 꺼져 있어요", "꺼지다"),
        ("신호등이 고장났어요", "고장나다"),
        ("쓰레기가 쌓여 있어요", "쌓이다"),
        ("맨홀 뚜껑이 열려 있어요", "열려 있다"),
        ("하수구가 막혔어요", "막히다"),
        ("보도블록이 깨졌어요", "깨지다"),
        ("도로가 움푹 파였어요", "파이다"),
        ("수도관에서 물이 새요", "새다"),
        ("공원 벤치가 부서졌어요", "부서지다"),
        ("가로등 불이 안 들어와요", "안 들어오다"),
    ],
)
def test_everyday_reports_of_a_fault_are_complaints(text, state):
    result = classify(text)
    assert result.intent == "complaint", result
    assert any(r.startswith("complaint: 문제 상태") and state in r for r in result.reasons)
    # A fault is not a danger by itself.
    assert result.urgency == "normal"


def test_a_fault_reported_with_a_question_is_still_a_complaint():
    assert classify("가로등이 꺼진 지 일주일인데 언제 고치나요?").intent == "complaint"


@pytest.mark.parametrize(
    "text",
    [
        "물이 새면 어디에 신고하나요?",  # a supposition, not a report
        "도서관 일요일에도 열려 있나요?",  # open is what a library should be
    ],
)
def test_questions_about_a_state_stay_questions(text):
    result = classify(text)
    assert result.intent == "question", result
    assert not any("문제 상태" in r for r in result.reasons)


def test_an_open_library_is_not_a_fault():
    assert not any("문제 상태" in r for r in classify("도서관 문이 열려 있어요").reasons)


@pytest.mark.parametrize(
    ("text", "urgency", "hit"),
    [
        ("조례동 도로에 물이 넘쳐 침수됐어요", "high", "침수"),
        ("담장이 부서져 무너질 것 같아요 지금 와 주세요", "urgent", "무너"),
        ("옹벽이 무너지고 붕괴 위험이 있어요", "urgent", "붕괴"),
    ],
)
def test_danger_words_still_raise_urgency_of_a_reported_fault(text, urgency, hit):
    result = classify(text)
    assert (result.intent, result.urgency) == ("complaint", urgency), result
    assert any(r.startswith("안전:") and hit in r for r in result.reasons)


def test_a_light_that_is_off_is_not_abuse_but_get_lost_is():
    assert classify("가로등이 꺼져 있어요").intent == "complaint"
    assert classify("너나 꺼져라").intent == "spam"


def test_a_strong_smell_is_a_complaint():
    assert classify("조례동 하수구 냄새가 심해요").intent == "complaint"
