import pytest

from registry.patients.pseudonym import make_pseudonym

KEY = "test-key"


def test_same_local_id_at_same_site_gives_same_pseudonym():
    assert make_pseudonym(KEY, "TUMS", "HN-123456") == make_pseudonym(KEY, "TUMS", "HN-123456")


def test_same_local_id_at_another_site_gives_another_pseudonym():
    assert make_pseudonym(KEY, "TUMS", "HN-123456") != make_pseudonym(KEY, "MASH", "HN-123456")


def test_another_key_gives_another_pseudonym():
    assert make_pseudonym(KEY, "TUMS", "HN-1") != make_pseudonym("other-key", "TUMS", "HN-1")


def test_spaces_and_case_do_not_change_the_pseudonym():
    assert make_pseudonym(KEY, "TUMS", " hn-12 3456 ") == make_pseudonym(KEY, "TUMS", "HN-123456")


def test_pseudonym_is_readable_and_carries_no_part_of_the_local_id():
    pseudonym = make_pseudonym(KEY, "TUMS", "998877")
    prefix, first, second = pseudonym.split("-")
    assert prefix == "TUMS" and len(first) == len(second) == 5
    assert "998877" not in pseudonym
    assert not set(first + second) & set("ILOU")


def test_empty_local_id_is_refused():
    with pytest.raises(ValueError):
        make_pseudonym(KEY, "TUMS", "   ")
