import pytest

from obts.matching import ParsedName, fold, normalize_given, normalize_surname, parse_name
from obts.matching.normalize import split_suffix


def test_case_and_accents_fold_to_plain_capitals() -> None:
    assert normalize_given("José").key == "JOSE"
    assert normalize_surname("núñez").key == "NUNEZ"


def test_fold_drops_everything_but_letters() -> None:
    assert fold(" O'Brien-José 3rd ") == "OBRIENJOSERD"


def test_apostrophe_joins_the_name() -> None:
    assert normalize_surname("O'Brien").key == "OBRIEN"


def test_apostrophe_keeps_a_spaced_variant_and_the_significant_part() -> None:
    forms = normalize_surname("O\u2019Brien")
    assert forms.spaced == "O BRIEN"
    assert forms.parts == ("BRIEN",)


@pytest.mark.parametrize(
    ("typed", "suffix"),
    [
        ("Smith Jr.", "JR"),
        ("Smith Sr", "SR"),
        ("Smith II", "II"),
        ("Smith III", "III"),
        ("Smith IV", "IV"),
        ("Smith, Junior", "JR"),
    ],
)
def test_generational_suffix_is_removed_and_returned(typed: str, suffix: str) -> None:
    forms = normalize_surname(typed)
    assert (forms.key, forms.suffix) == ("SMITH", suffix)


def test_a_lone_suffix_word_stays_a_name() -> None:
    assert split_suffix("Junior") == ("Junior", "")


def test_v_is_not_taken_for_a_suffix() -> None:
    assert normalize_surname("Smith V").suffix == ""


def test_hyphenated_surname_keeps_each_part_and_the_joined_form() -> None:
    forms = normalize_surname("García-López")
    assert forms.key == "GARCIALOPEZ"
    assert forms.parts == ("GARCIA", "LOPEZ")


def test_spaced_compound_surname_is_the_same_as_hyphenated() -> None:
    assert normalize_surname("Garcia Lopez").key == normalize_surname("García-López").key


def test_particles_stay_in_the_joined_form_and_leave_the_parts() -> None:
    forms = normalize_surname("De La Cruz")
    assert forms.key == "DELACRUZ"
    assert forms.tokens == ("DE", "LA", "CRUZ")
    assert forms.parts == ("CRUZ",)


def test_a_particle_that_ends_the_surname_is_a_part() -> None:
    assert normalize_surname("Le").parts == ("LE",)


def test_mc_and_mac_are_variants_of_each_other() -> None:
    assert "MACDONALD" in normalize_surname("McDonald").variants
    assert "MCDONALD" in normalize_surname("MacDonald").variants


def test_mac_before_a_vowel_gets_no_mc_variant() -> None:
    assert normalize_surname("Macey").variants == ()


def test_st_and_saint_are_variants_of_each_other() -> None:
    assert "SAINTJOHN" in normalize_surname("St. John").variants


def test_compound_given_name_keeps_its_words() -> None:
    forms = normalize_given("Mary-Kate")
    assert (forms.key, forms.parts) == ("MARYKATE", ("MARY", "KATE"))


def test_a_name_without_letters_is_empty_and_falsy() -> None:
    assert not normalize_surname(" - '")


def test_parse_last_comma_first_middle() -> None:
    assert parse_name("Smith, John Paul") == [ParsedName("John", "Paul", "Smith")]


@pytest.mark.parametrize("typed", ["Smith Jr, John", "Smith, John Jr.", "Smith, Jr., John"])
def test_parse_finds_the_suffix_wherever_it_is_written(typed: str) -> None:
    assert parse_name(typed) == [ParsedName("John", "", "Smith", "JR")]


def test_parse_two_words_offers_both_orders_first_last_first() -> None:
    assert parse_name("John Smith") == [
        ParsedName("John", "", "Smith"),
        ParsedName("Smith", "", "John"),
    ]


def test_parse_three_words_offers_middle_name_reversed_and_compound_surname() -> None:
    assert parse_name("Maria Garcia Lopez") == [
        ParsedName("Maria", "Garcia", "Lopez"),
        ParsedName("Garcia", "Lopez", "Maria"),
        ParsedName("Maria", "", "Garcia Lopez"),
    ]


def test_parse_keeps_particles_with_the_surname() -> None:
    assert parse_name("Juan de la Cruz") == [ParsedName("Juan", "", "de la Cruz")]
    assert parse_name("De La Cruz Juan") == [ParsedName("Juan", "", "De La Cruz")]


def test_parse_trailing_suffix_without_comma() -> None:
    assert parse_name("John Smith III")[0] == ParsedName("John", "", "Smith", "III")


def test_parse_one_word_is_a_surname_then_a_given_name() -> None:
    assert parse_name("Smith") == [ParsedName(last="Smith"), ParsedName(first="Smith")]


def test_parse_text_without_a_name_gives_nothing() -> None:
    assert parse_name(" ,. ") == []
