import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sotong.nlp.normalise import INVISIBLE, normalise, shorten_runs, tone_marks


def test_decomposed_hangul_from_a_mac_is_composed():
    decomposed = unicodedata.normalize("NFD", "가로등이 꺼졌어요")
    assert decomposed != "가로등이 꺼졌어요"
    assert normalise(decomposed) == "가로등이 꺼졌어요"


def test_invisible_and_control_characters_are_removed():
    text = "가\u200b로\u200d등\ufeff이\u202e 꺼\x07졌\x00어요\u00ad"
    assert normalise(text) == "가로등이 꺼졌어요"


def test_a_zero_width_space_between_jamo_does_not_keep_them_apart():
    assert normalise("\u1100\u200b\u1161") == "가"


def test_whitespace_runs_collapse_to_one_space():
    assert normalise("  도로가\t\t 파였어요\r\n\n사진  첨부 \u3000합니다 ") == (
        "도로가 파였어요 사진 첨부 합니다"
    )


def test_newlines_can_be_kept():
    assert normalise("첫 줄  \r\n\n\n  둘째\t줄", keep_newlines=True) == "첫 줄\n둘째 줄"


def test_full_width_ascii_is_folded_but_chat_jamo_stay():
    assert normalise("ＡＢＣ　１２３！？") == "ABC 123!?"
    # NFKC would turn ㅋ (compatibility jamo) into a conjoining ᄏ that glues onto the
    # next syllable: kept as typed.
    assert normalise("ㅋㅋ 아") == "ㅋㅋ 아"
    assert normalise("ㅠㅠ") == "ㅠㅠ"
    assert normalise("① 번") == "1 번"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ㅋㅋㅋㅋㅋㅋㅋㅋ", "ㅋㅋㅋ"),
        ("ㅠㅠㅠㅠㅠ 너무해요", "ㅠㅠㅠ 너무해요"),
        ("빨리요!!!!!!", "빨리요!!!"),
        ("감사합니다~~~~~~", "감사합니다~~~"),
        ("음......", "음..."),
        ("하하하하하하", "하하하"),
        ("ㅋㅋㅋ", "ㅋㅋㅋ"),
        ("ㅋㅋ", "ㅋㅋ"),
    ],
)
def test_repeated_marks_are_shortened_to_three(text, expected):
    assert normalise(text) == expected


def test_digits_latin_letters_and_masks_are_not_shortened():
    assert normalise("과태료 1000000원") == "과태료 1000000원"
    assert normalise("zzzzz") == "zzzzz"
    assert normalise("850315-*******") == "850315-*******"
    assert shorten_runs("ㅋㅋㅋㅋㅋ", length=2) == "ㅋㅋ"


def test_tone_marks_count_the_text_as_written():
    marks = tone_marks("ㅋㅋㅋㅋㅋ 좋아요!!! ㅎㅎ 근데 왜요?? ㅠㅠㅜ 음…")
    assert marks == {"laugh": 7, "cry": 3, "exclaim": 3, "question": 2, "ellipsis": 1}
    assert tone_marks("고마워요！")["exclaim"] == 1
    assert tone_marks("") == {"laugh": 0, "cry": 0, "exclaim": 0, "question": 0, "ellipsis": 0}
    # Jamo inside syllables are not tone marks: 우 and 후 are words.
    assert tone_marks(unicodedata.normalize("NFD", "우후"))["cry"] == 0


@given(st.text())
def test_normalise_is_idempotent_and_leaves_nothing_invisible(text):
    once = normalise(text)
    assert normalise(once) == once
    assert not any(c in INVISIBLE for c in once)
    assert not any(unicodedata.category(c) == "Cc" for c in once)
    assert once == once.strip()
    assert "  " not in once
    assert unicodedata.is_normalized("NFC", once)
