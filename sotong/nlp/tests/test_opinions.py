import pytest

from sotong.nlp import opinions
from sotong.nlp.opinions import AGAINST, FOR, NEUTRAL

# Opinions on 시청사 건립, eight on each of five subjects (parking, location, cost, design,
# history), written the way citizens write them.
PARKING = [
    "지금도 시청 주차장이 부족해서 민원 보러 가면 30분씩 돌아요. 새 청사엔 주차장을 넉넉하게 만들어 주세요.",
    "주차 공간이 가장 걱정입니다. 지하 주차장을 최소 500면 이상 확보해야 합니다.",
    "청사를 지으면 주변 골목 불법 주차가 더 심해질 것 같아요. 주차 대책부터 세워 주세요.",
    "장애인 주차구역과 임산부 주차구역을 입구 가까이에 충분히 두면 좋겠습니다.",
    "주차장 유료화는 반대합니다. 민원인 주차는 무료로 해 주세요.",
    "직원 차량이 주차장을 다 차지해서 민원인은 주차를 못 해요. 직원 주차는 따로 해야죠.",
    "주차 타워를 따로 지어서 주차 문제를 해결하면 좋겠어요. 문의 010-1234-5678",
    "전기차 충전소도 주차장에 꼭 넣어 주세요.",
]
LOCATION = [
    "신도심 쪽으로 옮기면 구도심 상권이 완전히 죽습니다. 지금 위치에 다시 짓는 것에 찬성합니다.",
    "버스 노선이 많은 역 근처로 위치를 정해야 어르신들이 오기 편합니다.",
    "외곽으로 이전하면 대중교통으로 가기 힘들어요. 도심에 있어야 합니다.",
    "현재 부지는 너무 좁아요. 넓은 부지로 이전하는 게 맞다고 봅니다.",
    "위치 선정 과정을 공개하고 주민 의견을 들어 주세요.",
    "역세권 부지로 이전하는 안을 환영합니다.",
    "구도심 활성화를 위해서라도 원래 자리에 있어야 합니다.",
    "읍면 지역 주민은 시내까지 멀어서 위치가 정말 중요합니다.",
]
COST = [
    "사업비가 1,200억이라는데 세금 낭비입니다.",
    "예산을 복지에 쓰는 게 낫지 않나요? 굳이 지금 지을 필요가 있나요.",
    "건립 비용을 어떻게 마련하는지 재원 계획을 먼저 밝혀 주세요.",
    "빚을 내서 청사를 짓는 건 반대합니다. 시 재정이 어려운데요.",
    "공사비가 나중에 더 늘어날까 걱정됩니다. 예산 관리를 철저히 해 주세요.",
    "호화 청사는 필요 없어요. 최소한의 예산으로 지어야 합니다.",
    "예산 규모에 비해 효과가 있을지 모르겠어요.",
    "유지 관리비까지 따지면 비용이 엄청날 텐데 세금이 아깝습니다.",
]
DESIGN = [
    "디자인 공모를 해서 멋진 건축물로 지으면 좋겠어요.",
    "유리 외벽은 여름에 덥고 냉방비가 많이 드니 피해 주세요.",
    "친환경 건축으로 태양광 패널과 옥상 정원을 넣어 주세요.",
    "건물 디자인이 순천만 정원과 어울리게 설계되면 좋겠습니다.",
    "외관보다 내부 설계가 중요해요. 민원실을 1층에 넓게 배치해 주세요.",
    "지역 건축가가 참여하는 설계 공모를 하면 좋겠습니다.",
    "건물 안에 시민 휴게 공간과 어린이 도서관을 만들어 주세요.",
    "랜드마크가 될 만한 디자인이면 찬성입니다.",
]
HISTORY = [
    "옛 청사 건물은 역사가 있는 근대 건축물이니 헐지 말고 보존해 주세요.",
    "기존 건물을 철거하지 말고 기록관이나 역사관으로 활용하면 좋겠습니다.",
    "순천의 역사와 문화를 담은 전시 공간이 있으면 좋겠어요.",
    "오래된 청사의 추억이 사라지는 게 아쉽습니다. 일부라도 보존했으면 해요.",
    "근대 문화유산으로 지정해서 역사 건물을 남겨야 합니다.",
    "옛 건물의 현판과 기록물을 새 청사 역사관에 전시해 주세요.",
    "문화재 조사를 먼저 하고 역사 유적이 나오면 보존해야 합니다.",
    "청사 건립은 필요하지만 역사적 가치가 있는 건물은 살려 주세요.",
]
ALL = PARKING + LOCATION + COST + DESIGN + HISTORY


@pytest.fixture(scope="module")
def themes():
    return opinions.group_opinions(ALL, topic="시청사 건립")


# --- stance -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "cue"),
    [
        ("시청사 건립에 찬성합니다", FOR, "찬성"),
        ("새 청사 건립 환영합니다!", FOR, "환영"),
        ("꼭 필요한 사업이라고 생각해요", FOR, "필요하다"),
        ("새 청사 좋네요", FOR, "좋다"),
        ("건립에 반대합니다", AGAINST, "반대"),
        ("세금 낭비입니다", AGAINST, "낭비"),
        ("공사비가 늘어날까 걱정됩니다", AGAINST, "걱정"),
        ("이건 아닌 것 같아요", AGAINST, "아니다"),
        ("세금이 아깝습니다", AGAINST, "아깝다"),
        # Negations turn the cue round.
        ("새 청사는 필요 없어요", AGAINST, "필요 없다"),
        ("새 청사는 필요가 없습니다", AGAINST, "필요 없다"),
        ("지금 짓는 건 필요하지 않다고 봅니다", AGAINST, "필요하지 않다"),
        ("위치가 안 좋아요", AGAINST, "안 좋다"),
        ("위치가 좋지 않아요", AGAINST, "좋지 않다"),
        ("건립을 반대하지 않습니다", FOR, "반대하지 않다"),
        ("건립에 찬성하지 않습니다", AGAINST, "찬성하지 않다"),
        ("낭비가 아닙니다, 오래된 청사는 위험해요", FOR, "낭비 아니다"),
        ("비용 걱정은 없습니다", FOR, "걱정 없다"),
        # A question asked only to say no.
        ("굳이 지을 필요가 있나요?", AGAINST, "필요가 있나"),
        # The strongest cue decides; between equals the last one (the conclusion).
        ("디자인은 좋지만 비용이 걱정돼서 반대합니다", AGAINST, "반대"),
        ("비용은 걱정이지만 꼭 필요합니다", FOR, "필요하다"),
        ("주차장이 걱정되지만 건립은 찬성합니다", FOR, "찬성"),
    ],
)
def test_stance_cues(text, label, cue):
    assert opinions.stance(text) == opinions.Stance(label, cue)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "주차장을 지하에 만들어 주세요",
        "민원실은 1층에 두면 좋겠어요",  # a suggestion for how, not whether
        "주차장이 아니라 도서관을 늘려 주세요",  # a contrast, not a no
        "ㅋㅋㅋ",
    ],
)
def test_no_cue_is_neutral(text):
    assert opinions.stance(text) == opinions.Stance(NEUTRAL, None)


# --- grouping -----------------------------------------------------------------------------


def test_parking_opinions_land_together(themes):
    parking = set(range(len(PARKING)))
    best = max(themes, key=lambda theme: len(parking & set(theme.members)))
    assert len(parking & set(best.members)) >= 6
    # ...and the theme is mostly about parking, named by it.
    assert len(parking & set(best.members)) >= len(best.members) * 0.75
    assert "주차" in best.keywords or "주차장" in best.keywords


def test_history_opinions_mostly_together(themes):
    history = set(range(32, 40))
    best = max(themes, key=lambda theme: len(history & set(theme.members)))
    assert len(history & set(best.members)) >= 4
    assert "역사" in best.keywords or "보존" in best.keywords


def test_every_opinion_in_exactly_one_theme(themes):
    members = sorted(i for theme in themes for i in theme.members)
    assert members == list(range(len(ALL)))
    assert 2 <= len(themes) <= 8


def test_themes_largest_first_with_quotes_from_their_members(themes):
    sizes = [len(theme.members) for theme in themes]
    assert sizes == sorted(sizes, reverse=True)
    for theme in themes:
        assert 3 <= len(theme.keywords) <= 5
        assert len(set(theme.keywords)) == len(theme.keywords)
        assert set(theme.quotes) <= set(theme.members)
        assert len(theme.quotes) == min(3, len(theme.members))
        assert theme.members == sorted(theme.members)


def test_counts_add_up_and_match_stance(themes):
    for theme in themes:
        assert theme.for_count + theme.against_count + theme.neutral_count == len(theme.members)
        labels = [opinions.stance(ALL[i]).label for i in theme.members]
        assert theme.for_count == labels.count(FOR)
        assert theme.against_count == labels.count(AGAINST)
    total_against = sum(theme.against_count for theme in themes)
    total_for = sum(theme.for_count for theme in themes)
    # 반대(×2), 낭비, 걱정(×2), 필요 없다, 필요가 있나, 아깝다 / 찬성(×2), 환영, 필요하다.
    assert total_against == 8
    assert total_for == 4


def test_topic_and_stance_words_name_no_theme(themes):
    words = {word for theme in themes for word in theme.keywords}
    for word in ("청사", "건립", "찬성", "반대", "필요", "좋다", "<num>"):
        assert word not in words


def test_personal_information_is_masked_before_grouping():
    texts = ["주차장 넓혀 주세요 010-1234-5678", "주차장 무료로 010-1234-5678", "역사관 보존"]
    words = {word for theme in opinions.group_opinions(texts) for word in theme.keywords}
    assert not any("1234" in word or "5678" in word for word in words)


def test_same_input_same_output(themes):
    again = opinions.group_opinions(list(ALL), topic="시청사 건립")
    assert again == themes


def test_order_of_input_does_not_change_the_groups():
    shuffled = ALL[::-1]
    first = {frozenset(t.members) for t in opinions.group_opinions(ALL, topic="시청사 건립")}
    second = {
        frozenset(len(ALL) - 1 - i for i in t.members)
        for t in opinions.group_opinions(shuffled, topic="시청사 건립")
    }
    # k-means starts from the data, so the order may move an opinion at the margin; most
    # of each group survives.
    parking = set(range(len(PARKING)))
    assert max(len(parking & group) for group in second) >= 6
    assert len(first) >= 2
    assert len(second) >= 2


def test_max_themes_is_respected():
    themes = opinions.group_opinions(ALL, max_themes=3, topic="시청사 건립")
    assert 1 <= len(themes) <= 3
    assert sorted(i for t in themes for i in t.members) == list(range(len(ALL)))


# --- tiny and odd inputs ------------------------------------------------------------------


def test_empty_input():
    assert opinions.group_opinions([]) == []


def test_one_opinion():
    [theme] = opinions.group_opinions(["새 청사 주차장이 너무 좁을까 걱정이에요"])
    assert theme.members == [0]
    assert theme.quotes == [0]
    assert "주차장" in theme.keywords
    assert (theme.for_count, theme.against_count, theme.neutral_count) == (0, 1, 0)


def test_two_opinions_make_one_theme():
    [theme] = opinions.group_opinions(["주차장을 넓혀 주세요", "역사관을 만들어 주세요"])
    assert theme.members == [0, 1]
    assert sorted(theme.quotes) == [0, 1]


def test_opinions_with_nothing_to_group_by_come_last():
    texts = ["찬성합니다!", "주차장 넓혀 주세요", "", "주차장 무료로 해 주세요", "ㅋㅋ", "반대"]
    themes = opinions.group_opinions(texts)
    assert themes[-1].keywords == []
    assert themes[-1].members == [0, 2, 4, 5]
    assert (themes[-1].for_count, themes[-1].against_count) == (1, 1)
    assert sorted(i for t in themes for i in t.members) == list(range(len(texts)))


def test_identical_opinions_do_not_break_clustering():
    themes = opinions.group_opinions(["주차장 넓혀 주세요"] * 12)
    assert len(themes) == 1
    assert themes[0].members == list(range(12))


def test_max_themes_below_one_is_refused():
    with pytest.raises(ValueError, match="max_themes"):
        opinions.group_opinions(["주차장"], max_themes=0)
