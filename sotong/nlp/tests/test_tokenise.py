import threading

from sotong.nlp import tokenise


def test_content_morphemes_only():
    words = tokenise.tokens("도로에 싱크홀이 생겼어요! 3번 버스 정류장 앞이에요 https://x.com")
    assert "도로" in words
    assert "버스" in words
    assert "정류장" in words
    assert "생기" in words  # the verb's stem, not 생겼어요
    assert tokenise.NUMBER in words
    assert tokenise.URL in words
    for dropped in ("에", "이", "어요", "!", "번"):
        assert dropped not in words


def test_decomposed_input_gives_the_same_tokens():
    import unicodedata

    text = "가로등이 꺼졌어요"
    assert tokenise.tokens(unicodedata.normalize("NFD", text)) == tokenise.tokens(text)


def test_empty_and_blank_text():
    assert tokenise.tokens("") == []
    assert tokenise.tokens("   \n") == []
    assert tokenise.tokens_many(["", "주차 단속"]) == [[], ["주차", "단속"]]


def test_batch_equals_one_by_one():
    texts = ["공원 벤치가 부서졌어요", "불법 주차 신고합니다", "", "Wi-Fi가 안 돼요"]
    assert tokenise.tokens_many(texts) == [tokenise.tokens(t) for t in texts]


def test_one_kiwi_shared_by_threads():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(id(tokenise.kiwi()))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 1
