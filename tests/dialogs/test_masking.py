"""Masking before anything leaves for a model: contact details and colleagues' names."""

from __future__ import annotations

import pytest

from dialogs.engine.masking import Masker, has_placeholder, mask

NAMES = ["Marieke van der Berg", "Alex Smith", "Sam Jones", "Bo Li"]


@pytest.mark.parametrize(
    "text",
    [
        "mail sam.jones@example.com",
        "or Sam.O'Neil+regie@mail.example.co.uk please",
        "call +31 6 1234 5678",
        "call 06-12345678",
        "call (020) 123 4567",
        "call +1 (555) 123-4567",
        "call 0031612345678",
    ],
)
def test_contact_details_are_masked(text: str) -> None:
    masked = mask(text)
    assert "@" not in masked
    assert sum(ch.isdigit() for ch in masked.replace("-1]", "")) == 0, masked


@pytest.mark.parametrize(
    "text",
    ["on 2026-12-15", "on 15-12-2026", "in 2025-2026", "for 3 weeks, 40 hours", "v1.2.3"],
)
def test_dates_and_numbers_are_not_phone_numbers(text: str) -> None:
    assert mask(text) == text


def test_names_are_masked_in_any_case_and_full_names_stay_one_person() -> None:
    masker = Masker.for_names(NAMES)
    masked = masker.mask("Alex Smith and marieke helped; later ALEX came back. Van der Berg too.")
    assert masked == "[name-1] and [name-2] helped; later [name-3] came back. Van der [name-4] too."
    assert masker.unmask("Ask [name-1] and [name-2]?") == "Ask Alex Smith and marieke?"
    assert masker.unmask("Ask [name-9]") == "Ask [name-9]"  # made up: stays, and is noticed
    assert has_placeholder(masker.unmask("Ask [name-9]"))


def test_particles_and_short_name_parts_are_not_masked_on_their_own() -> None:
    assert mask("de van der het bo li", names=NAMES) == "de van der het bo li"


def test_the_same_value_gets_the_same_placeholder_across_texts() -> None:
    masker = Masker.for_names(NAMES)
    first = masker.mask("a@example.com and Sam")
    second = masker.mask("SAM wrote to A@example.com")
    assert first == "[email-1] and [name-1]"
    assert second == "[name-1] wrote to [email-1]"


def test_text_without_anything_to_mask_is_unchanged() -> None:
    text = "Ik hielp een klant 🙂 — مرحبا"
    assert mask(text, names=NAMES) == text
