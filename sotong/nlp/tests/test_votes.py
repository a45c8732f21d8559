import random
import unicodedata

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from sotong.nlp import votes

NEWSLETTER = ("순천愛소식", "꽃누리", "순천人", "정원소식", "갈대 편지")
CITY_HALL = ("1안", "2안", "3안")
CLOSE = ("순천 소식", "순천 소식지", "꽃누리", "꽃누리 소식")
SNS = (
    "관광과 – 순천만 갈대 숏폼",
    "하수도과 – 맨홀 뚜껑의 하루",
    "교통과 – 버스 타는 법",
    "환경과 – 분리배출 챌린지",
)


def read(text, options=NEWSLETTER):
    vote = votes.parse(text, options)
    return vote.option, vote.reason


# --- votes, every way they are written ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("2번", 2),
        ("2번이요!!", 2),
        ("2번이요!!!!!", 2),
        ("2 번", 2),
        ("저는 2번!", 2),
        ("2번 찍어요", 2),
        ("2번에 한 표", 2),
        ("2번에 1표요", 2),
        ("2번 디자인이 제일 세련됐네요", 2),
        ("2번째요", 2),
        ("2호", 2),
        ("기호 2번", 2),
        ("#2", 2),
        ("No.2", 2),
        ("넘버 2", 2),
        ("２번", 2),  # full-width
        ("2", 2),
        ("저도2!!", 2),
        ("2 ㅋㅋ", 2),
        ("💐2번💐", 2),
        ("2번! 2번! 2번!", 2),  # one option, three times: one vote
        ("여러 번 봤는데 2번이 제일 나아요", 2),
        ("3시에 보고 왔는데 2번이요", 2),  # the time is not a choice
        ("아이 2명이랑 봤는데 다들 4번이래요", 4),
        ("이번 투표는 3번이요", 3),  # 이번 = this time
        ("2번(꽃누리)", 2),  # the number and the name of one option
        ("@김순천 저도 5번이요", 5),
    ],
)
def test_numbers(text, option):
    assert read(text) == (option, votes.NUMBER)


@pytest.mark.parametrize(
    ("text", "option", "reason"),
    [
        ("②", 2, votes.CIRCLED),
        ("② 번이 예뻐요", 2, votes.CIRCLED),
        ("❸", 3, votes.CIRCLED),
        ("⑷번이요", 4, votes.CIRCLED),
        ("⒌", 5, votes.CIRCLED),
        ("➁ 찍어요", 2, votes.CIRCLED),
        ("2️⃣", 2, votes.KEYCAP),
        ("2\u20e3번이요", 2, votes.KEYCAP),  # without the emoji selector
        ("저는 5️⃣", 5, votes.KEYCAP),
        ("두 번째", 2, votes.ORDINAL),
        ("두번째꺼요", 2, votes.ORDINAL),
        ("세번째요", 3, votes.ORDINAL),
        ("첫 번째", 1, votes.ORDINAL),
        ("첫번째 거 강추", 1, votes.ORDINAL),
        ("다섯 번째 이름이 좋습니다", 5, votes.ORDINAL),
        ("다들네번째래요", 4, votes.ORDINAL),
        ("둘째 거요", 2, votes.ORDINAL),
        ("이번", 2, votes.ORDINAL),
        ("삼번이요", 3, votes.ORDINAL),
        ("저는일번!", 1, votes.ORDINAL),
        ("오번 찍어요", 5, votes.ORDINAL),
        ("두번이요!!", 2, votes.ORDINAL),
        ("셋!!", 3, votes.ORDINAL),
        ("마지막 거요", 5, votes.ORDINAL),
        ("맨 마지막꺼", 5, votes.ORDINAL),
    ],
)
def test_circled_keycap_and_korean_numbers(text, option, reason):
    assert read(text) == (option, reason)


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("꽃누리", 2),
        ("꽃누리요~", 2),
        ("꽃 누리", 2),
        ("꽃누리!! 꽃누리!!", 2),
        ("꽃누리에 투표합니다!!", 2),
        ("꽃누리가좋아요", 2),
        ("저는꽃누리요", 2),
        ("꽃누리최고", 2),
        ("순천만정원 이름은 '꽃누리'가 좋겠어요", 2),
        ("개인적으로 '꽃누리'라는 이름이 예쁜 것 같아요", 2),
        ("「꽃누리」", 2),
        ("#꽃누리", 2),
        ("순천愛소식", 1),
        ("순천애소식으로 해주세요", 1),  # 愛 read as 애 ...
        ("순천 사랑 소식 좋아요", 1),  # ... or as 사랑
        ("저는 순천人 찬성", 3),
        ("순천인이요", 3),
        ("순천 사람", 3),
        ("정원 소식이요", 4),
        ("갈대편지", 5),
        ("GALDAE? 아니 갈대 편지!", 5),
        ("순천에 살아요 꽃누리요", 2),
        ("이번에는 꽃누리", 2),
    ],
)
def test_names(text, option):
    assert read(text) == (option, votes.NAME)


@pytest.mark.parametrize(
    ("text", "option", "written"),
    [
        ("꼿누리", 2, "꼿누리"),
        ("꽃너리요", 2, "꽃너리"),
        ("오꽃느리가 좋아요", 2, "꽃느리"),
        ("갈데 편지요", 5, "갈데편지"),
        ("정원서식!", 4, "정원서식"),
    ],
)
def test_near_spellings(text, option, written):
    vote = votes.parse(text, NEWSLETTER)
    assert (vote.option, vote.reason) == (option, votes.NEAR_NAME)
    assert f"‘{written}’" in vote.detail


def test_a_near_spelling_is_not_a_shorter_word_with_a_particle():
    # 순천이 is 순천 + 이 (Suncheon is …), not a typo of 순천인; 순천인구 holds 순천인.
    assert read("순천이 최고야") == (None, votes.NONE)
    assert read("순천 인구가 늘었으면 좋겠어요") == (None, votes.NONE)
    assert read("순천에 사는 사람으로서 한마디") == (None, votes.NONE)
    # Two syllables allow no typo at all.
    assert read("꽃나", ("꽃누", "달빛")) == (None, votes.NONE)


# --- not votes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2번 3번", votes.SEVERAL),
        ("2번이랑 3번 고민중", votes.SEVERAL),
        ("2번이랑 순천人", votes.SEVERAL),
        ("2번 아니면 3번이요", votes.SEVERAL),
        ("1, 2번 좋아요", votes.SEVERAL),
        ("②③", votes.SEVERAL),
        ("꽃누리 vs 순천人", votes.SEVERAL),
        ("꽃누리/순천人", votes.SEVERAL),
        ("2번도 좋고 3번도 좋아요", votes.SEVERAL),
        ("3번!! (2번도 괜찮음)", votes.SEVERAL),
        ("전 2번이 좋은데 남편은 3번이래요", votes.SEVERAL),
        ("꽃누리 3번", votes.SEVERAL),
        ("7번", votes.OUT_OF_RANGE),
        ("7번이요!!", votes.OUT_OF_RANGE),
        ("0번", votes.OUT_OF_RANGE),
        ("⑦", votes.OUT_OF_RANGE),
        ("여섯 번째", votes.OUT_OF_RANGE),
        ("2번은 별로", votes.NEGATED),
        ("2번 싫음", votes.NEGATED),
        ("2번은 안 찍어요", votes.NEGATED),
        ("2번은 좀 아닌듯", votes.NEGATED),
        ("2번은 좋지 않아요", votes.NEGATED),
        ("2번 빼고 다 좋아요", votes.NEGATED),
        ("꽃누리는 좀...", votes.NEGATED),
        ("2번이 뭐예요?", votes.QUESTION),
        ("2번 어때요?", votes.QUESTION),
        ("2번?", votes.QUESTION),
        ("2번 맞죠?", votes.QUESTION),
        ("2번인가요", votes.QUESTION),
        ("2번 누가 골랐어요?", votes.QUESTION),
        ("2번 설명 좀요", votes.QUESTION),
        ("2번이 궁금해요", votes.QUESTION),
        ("꽃누리는 무슨 뜻이에요", votes.QUESTION),
        ("2번이랑 3번 중에 뭐가 좋을까요?", votes.QUESTION),
        ("2번 투표하려면 어떻게 해요?", votes.QUESTION),
        ("다 좋아요~", votes.NONE),
        ("둘 다 좋네요 ㅎㅎ", votes.NONE),
        ("ㅋㅋㅋㅋ", votes.NONE),
        ("3시에 봐요", votes.NONE),
        ("2026년 2월 3일", votes.NONE),
        ("010-1234-5678로 연락주세요", votes.NONE),
        ("5,000원 상품권 주나요", votes.NONE),
        ("11/25 행사 맞죠", votes.NONE),
        ("1.5배 큰 건물", votes.NONE),
        ("공모 기간이 2주 남았네요", votes.NONE),
        ("좋아요 2개 눌렀어요", votes.NONE),
        ("1등 상품 뭐예요", votes.NONE),
        ("2번 출구로 나오세요", votes.NONE),
        ("2번 버스 타고 왔어요", votes.NONE),
        ("3번이나 봤어요 ㅋㅋ", votes.NONE),
        ("중앙로 12번길", votes.NONE),
        ("1호선 타고 가요", votes.NONE),
        ("이번에도 참여합니다!", votes.NONE),
        ("한번 더 생각해볼게요", votes.NONE),
        ("두 번 투표해도 되나요?", votes.NONE),
        ("몇 번이 인기 많아요?", votes.NONE),
        ("우리 둘째가 좋아해요", votes.NONE),
        ("첫 번째 댓글 ㅎㅎ", votes.NONE),
        ("https://www.suncheon.go.kr/2 여기 보세요", votes.NONE),
        ("", votes.EMPTY),
        ("   ", votes.EMPTY),
        ("👍👍", votes.EMPTY),
        ("!!!", votes.EMPTY),
    ],
)
def test_comments_that_are_not_votes(text, reason):
    assert read(text) == (None, reason)


@pytest.mark.parametrize(
    ("text", "option"),
    [
        # An option rejected beside one chosen leaves the chosen one (documented).
        ("2번 말고 3번", 3),
        ("2번말고 3번이요!!", 3),
        ("2번보다 3번이 좋아요", 3),
        ("3번이 2번보다 나아요", 3),
        ("2번은 별로고 3번은 좋네요", 3),
        ("2번 대신 3번", 3),
        ("갈대편지 ㄴㄴ 꽃누리 ㅇㅇ", 2),
        ("2번에서 3번으로 바꿀게요", 3),
        ("'꽃누리'에서 '순천人'으로 바꿀게요", 3),
        # A rhetorical question that praises it is a vote.
        ("2번이 낫지 않나요?", 2),
        ("2번이 제일 예쁘죠?", 2),
    ],
)
def test_rejections_and_rhetorical_questions_beside_a_choice(text, option):
    assert read(text)[0] == option


def test_details_tell_staff_why_in_korean():
    assert votes.parse("2번 3번", NEWSLETTER).detail == "선택지 2번과 3번을 함께 적었습니다"
    assert votes.parse("1번 2번 3번", NEWSLETTER).detail == (
        "선택지 1번, 2번과 3번을 함께 적었습니다"
    )
    assert votes.parse("7번", NEWSLETTER).detail == (
        "7번은 없는 선택지입니다 (선택지는 1번부터 5번까지)"
    )
    assert votes.parse("2번은 별로", NEWSLETTER).detail == (
        "2번을 고르지 않는다는 뜻으로 읽었습니다"
    )
    assert votes.parse("2번이 뭐예요?", NEWSLETTER).detail == "2번에 대한 질문으로 읽었습니다"
    assert votes.parse("안녕하세요", NEWSLETTER).detail == "선택지 번호나 이름을 찾지 못했습니다"
    assert votes.parse("②", NEWSLETTER).detail == "2번 ‘꽃누리’: 번호를 동그라미 숫자로 적었습니다"
    # Many options are listed short, and every detail fits the 300 characters a ballot keeps.
    many = [f"후보 {n}" for n in range(1, 21)]
    assert votes.parse(" ".join(f"{n}번" for n in range(1, 21)), many).detail == (
        "선택지 1번, 2번, 3번, 4번, 5번 등 20개를 함께 적었습니다"
    )
    assert len(votes.parse("1 2 3 4 5 " * 20, NEWSLETTER).detail) < 300


# --- options that look alike ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "option", "reason"),
    [
        ("1안", 1, votes.NAME),
        ("2안이 좋아요", 2, votes.NAME),
        ("오3안 선택합니다", 3, votes.NAME),
        ("제2안", 2, votes.NAME),
        ("1안화이팅", 1, votes.NAME),
        ("2번", 2, votes.NUMBER),
        ("2안 3안", None, votes.SEVERAL),
        ("11안", None, votes.OUT_OF_RANGE),  # not 1안
        ("2안녕하세요", None, votes.NONE),
        ("2 안 좋아요", None, votes.NONE),  # 2 is not good, not "plan 2"
        ("1안 2안 둘 다 별로", None, votes.NEGATED),
    ],
)
def test_options_with_digits(text, option, reason):
    assert read(text, CITY_HALL) == (option, reason)


def test_a_name_that_is_a_number_of_another_option_is_the_name():
    shuffled = ("3안", "1안", "2안")
    assert read("1안", shuffled) == (2, votes.NAME)  # the option named 1안 ...
    assert read("1번", shuffled) == (1, votes.NUMBER)  # ... the first option


@pytest.mark.parametrize(
    ("text", "option", "reason"),
    [
        ("순천 소식", 1, votes.NAME),
        ("순천소식이요", 1, votes.NAME),
        ("순천 소식지", 2, votes.NAME),
        ("순천소식지요", 2, votes.NAME),
        ("다들 순천 소식지래요", 2, votes.NAME),
        ("순천 소식 말고 순천 소식지", 2, votes.NAME),
        ("꽃누리", 3, votes.NAME),
        ("꽃누리 소식", 4, votes.NAME),
        ("꽃누리 서식", 4, votes.NEAR_NAME),  # a typo of 꽃누리 소식, not 꽃누리 + a word
        ("꽃누리소식 꽃누리", None, votes.SEVERAL),
        ("순천소싁지", 2, votes.NEAR_NAME),  # 1 letter from 순천 소식지, 3 from 순천 소식
    ],
)
def test_options_that_are_names_of_each_other(text, option, reason):
    assert read(text, CLOSE) == (option, reason)


def test_a_spelling_as_near_to_two_options_is_ambiguous():
    options = ("순천 가을 소식", "순천 겨울 소식")
    vote = votes.parse("순천 거울 소식", options)
    assert (vote.option, vote.reason) == (None, votes.AMBIGUOUS)
    assert vote.detail == "‘순천거울소식’: 선택지 1번과 2번 중 어느 쪽인지 알 수 없습니다"


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("관광과", 1),
        ("관광과 숏폼 최고", 1),
        ("순천만 갈대 영상 좋아요", 1),
        ("맨홀 뚜껑의 하루", 2),
        ("맨홀뚜껑 좋아요", 2),
        ("하수도과 영상 최고", 2),
        ("교통과요", 3),
        ("분리배출 챌린지!!", 4),
        ("관광과 – 순천만 갈대 숏폼", 1),
    ],
)
def test_a_part_of_a_long_entry_name_names_it(text, option):
    assert read(text, SNS) == (option, votes.NAME)


def test_parts_shared_or_too_common_name_nothing():
    assert read("순천만 좋아요", SNS) == (None, votes.NONE)
    assert read("관광과랑 교통과", SNS) == (None, votes.SEVERAL)


# --- the options themselves -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ([], "no options"),
        (["꽃누리", " 꽃 누리! "], "options 1 and 2 are the same name"),
        (["꽃누리", "!!"], "option 2 has no letters or digits"),
        (["꽃누리", 3], "option 2 is not text"),
        (["x"] * 100, "100 options"),
    ],
)
def test_options_that_cannot_be_told_apart_are_refused(names, message):
    with pytest.raises(votes.OptionsError, match=message):
        votes.Options(names)


def test_parse_many_reads_like_parse():
    comments = ["2번", "꽃누리", "2번 3번", "", "꼿누리요"]
    assert votes.parse_many(comments, NEWSLETTER) == [votes.parse(c, NEWSLETTER) for c in comments]


def test_decomposed_hangul_and_invisible_characters():
    assert read(unicodedata.normalize("NFD", "꽃누리가 좋아요")) == (2, votes.NAME)
    assert read("꽃\u200b누리") == (2, votes.NAME)
    assert read("2\u200b번") == (2, votes.NUMBER)


def test_jamo_and_distance():
    assert votes.jamo("꽃누리") == "ㄲㅗㅊㄴㅜㄹㅣ"
    assert votes.jamo("1안 A") == "1ㅇㅏㄴ A"
    assert votes.jamo_distance("꽃누리", "꼿누리") == 1
    assert votes.jamo_distance("꽃누리", "꽃누리") == 0
    assert votes.edit_distance("kitten", "sitting") == 3


def test_the_generated_corpus_meets_the_bar():
    from eval.votes import evaluate
    from eval.votes_corpus import generate

    figures = evaluate(generate(seed=11))
    assert figures["examples"] >= 1500
    assert figures["invalid_counted_as_vote"] == 0, figures["errors"]
    assert figures["accuracy"] >= 0.97, figures["errors"]


# --- properties ---------------------------------------------------------------------------------------

OPTION_SETS = st.sampled_from([NEWSLETTER, CITY_HALL, CLOSE, SNS, ("찬성", "반대")])
BEFORE = st.sampled_from(
    [
        "",
        "저는 ",
        "ㅋㅋㅋ ",
        "와~ ",
        "@김순천 ",
        "음.. ",
        "💐",
        "개인적으로 ",
        "고민 끝에 ",
        "3시에 보고 ",
    ]
)
AFTER = st.sampled_from(
    ["", "!!", "~~", " ㅋㅋ", "ㅎㅎ", " 👍", "❤️", " 화이팅!", "요", "이요!!", " 찍어요", " 강추"]
)
NOISE = st.text(alphabet="ㅋㅎㅠ~!.👍💕 ", max_size=5)
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"


def _written(k: int, how: str) -> str:
    return {
        "beon": f"{k}번",
        "spaced": f"{k} 번",
        "ordinal": f"{k}번째",
        "hash": f"#{k}",
        "no": f"No.{k}",
        "circled": _CIRCLED[k - 1],
        "keycap": f"{k}\ufe0f\u20e3",
        "giho": f"기호 {k}번",
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in str(k)) + "번",
    }[how]


WAYS = st.sampled_from(
    ["beon", "spaced", "ordinal", "hash", "no", "circled", "keycap", "giho", "fullwidth"]
)


@st.composite
def one_choice(draw):
    options = draw(OPTION_SETS)
    k = draw(st.integers(1, len(options)))
    text = draw(BEFORE) + draw(NOISE) + _written(k, draw(WAYS)) + draw(AFTER) + draw(NOISE)
    return options, k, text


@settings(max_examples=300, deadline=None)
@given(one_choice())
@example((NEWSLETTER, 2, "저는 ②요"))
def test_one_option_number_with_noise_around_it_is_that_option(case):
    options, k, text = case
    assert votes.parse(text, options).option == k, votes.parse(text, options)


@settings(max_examples=300, deadline=None)
@given(
    one_choice(),
    st.integers(1, 6),
    WAYS,
    st.sampled_from([" ", ", ", "이랑 ", " 그리고 ", " / ", "도 좋고 "]),
    st.booleans(),
)
def test_a_second_different_option_always_makes_it_invalid(case, other, way, joint, first):
    options, k, text = case
    assume(other != k and other <= len(options))
    second = _written(other, way)
    combined = f"{text}{joint}{second}" if first else f"{second}{joint}{text}"
    vote = votes.parse(combined, options)
    assert (vote.option, vote.reason) == (None, votes.SEVERAL), combined


@settings(max_examples=200, deadline=None)
@given(st.permutations(NEWSLETTER), st.integers(0, len(NEWSLETTER) - 1), AFTER)
def test_a_name_is_read_as_its_place_in_any_order(order, index, after):
    name = NEWSLETTER[index]
    assert votes.parse(name + after, order).option == order.index(name) + 1


_VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"


@settings(max_examples=300, deadline=None)
@given(OPTION_SETS, st.data())
def test_a_one_letter_typo_never_counts_for_another_option(options, data):
    k = data.draw(st.integers(1, len(options)))
    name = options[k - 1]
    hangul = [i for i, c in enumerate(name) if "가" <= c <= "힣"]
    assume(hangul)
    at = data.draw(st.sampled_from(hangul))
    code = ord(name[at]) - 0xAC00
    vowel = data.draw(st.integers(0, len(_VOWELS) - 1))
    typo = chr(0xAC00 + code // 588 * 588 + vowel * 28 + code % 28)
    text = name[:at] + typo + name[at + 1 :]
    vote = votes.parse(text, options)
    if vote.reason == votes.NEAR_NAME:
        assert vote.option == k, (text, vote)


@settings(max_examples=300, deadline=None)
@given(OPTION_SETS, st.text(max_size=40))
@example(NEWSLETTER, "⓿")
@example(NEWSLETTER, "🔟번")
def test_any_text_reads_to_a_known_reason(options, text):
    vote = votes.parse(text, options)
    assert vote.reason in votes.REASONS
    assert vote.counted == (vote.reason in votes.VALID_REASONS)
    assert vote.option is None or 1 <= vote.option <= len(options)
    assert vote.detail


def test_reading_is_fast():
    options = votes.Options(NEWSLETTER)
    rng = random.Random(3)
    words = [
        "2번",
        "꽃누리",
        "순천",
        "좋아요",
        "ㅋㅋ",
        "별로",
        "3시에",
        "갈데 편지",
        "근데",
        "저는",
    ]
    comments = [" ".join(rng.choices(words, k=12)) for _ in range(500)]
    import time

    started = time.perf_counter()
    for comment in comments:
        options.parse(comment)
    # Generous for a loaded CI machine: about 0.2 ms each on a quiet one.
    assert time.perf_counter() - started < 5
